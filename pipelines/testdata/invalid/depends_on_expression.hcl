text "a" {
  value = "a"
}

text "b" {
  value      = "b"
  depends_on = [
    text.a,
    "text.a", # ERROR: Invalid depends_on reference
    upper(text.a), # ERROR: Invalid depends_on reference
  ]
}
