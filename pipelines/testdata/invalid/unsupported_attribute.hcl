text "b" {
  for_each = { x = { word = "one" } }
  value    = each.value.wrd # ERROR: Unsupported attribute
}
