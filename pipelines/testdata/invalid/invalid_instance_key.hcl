text "b" {
  for_each = { x = "1", y = "2" }
  value    = each.value
}

concat "c" {
  parts = [text.b[0].out] # ERROR: Invalid instance key
}
