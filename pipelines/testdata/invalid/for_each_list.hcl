text "a" {
  for_each = ["x", "y"] # ERROR: Invalid for_each argument
  value    = each.key
}
