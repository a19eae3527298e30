concat "c" { # ERROR: Dependency cycle
  parts = [text.a.out]
}

text "a" {
  value      = "a"
  depends_on = [text.b]
}

text "b" {
  value = "b${length(concat.c.words)}"
}
