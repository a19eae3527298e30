text "a" {
  value = "x y"
}

text "b" {
  for_each = toset([for w in text.a.words : "w"]) # ERROR: Invalid for_each argument
  value    = each.key
}
