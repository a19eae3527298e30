text "a" {
  value = "a"
}

text "b" {
  value      = "b"
  depends_on = [text.a.out] # ERROR: Invalid depends_on reference
}
