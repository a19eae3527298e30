text "b" {
  for_each = toset(["x", "y"])
  value    = each.key
}

concat "c" {
  parts = [text.b["z"].out] # ERROR: Reference to undeclared instance
}
