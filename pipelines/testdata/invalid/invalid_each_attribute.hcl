text "a" {
  for_each = toset(["x"])
  value    = each.name # ERROR: Invalid each attribute
}
