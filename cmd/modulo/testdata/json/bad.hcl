text "a" {
  value = "x"
  uper  = true
}

concat "c" {
  parts = [text.a.out, text.b.out]
}
