# One mistake in a block with three instances is one error, not three.
text "b" {
  for_each = toset(["x", "y", "z"])
  value    = "${each.key}${var.missing}" # ERROR: Reference to undeclared variable
}
