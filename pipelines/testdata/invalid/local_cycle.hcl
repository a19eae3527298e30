locals {
  a = local.b # ERROR: Cycle in local values
  b = "${local.c}!"
  c = upper(local.a)
  d = "fine"
}

text "t" {
  value = local.d
}
