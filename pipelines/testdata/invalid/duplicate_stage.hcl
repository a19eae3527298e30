text "a" {
  value = "one"
}

concat "a" {
  parts = [text.a.out]
}

text "a" { # ERROR: Duplicate text block
  value = "two"
}
