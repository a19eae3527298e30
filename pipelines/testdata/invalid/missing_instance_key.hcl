text "b" {
  for_each = toset(["x", "y"])
  value    = each.key
}

concat "c" {
  parts = [text.b.out] # ERROR: Missing instance key
}
