# A type error in a block with two instances is one error, not two.
text "b" {
  for_each = toset(["x", "y"])
  value    = each.key
  threads  = "many" # ERROR: Invalid value for attribute
}
