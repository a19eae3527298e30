locals {
  k = each.key # ERROR: Reference to "each" in locals
}
