# Several undeclared references among locals: each is reported, in a stable order.
variable "width" {
  default = 8
}

locals {
  a = local.missing_a # ERROR: Reference to undeclared local value
  b = var.widht # ERROR: Reference to undeclared variable
  c = local.missing_c # ERROR: Reference to undeclared local value
  d = var.height # ERROR: Reference to undeclared variable
  e = local.a
  f = each.key # ERROR: Reference to "each" in locals
}
