# A for_each over an empty map makes no instances; a whole-block reference still works.
variable "extra" {
  type    = map(string)
  default = {}
}

text "extra" {
  for_each = var.extra
  value    = each.value
}

text "base" {
  value = "base"
}

concat "all" {
  parts = concat([text.base.out], [for k, v in text.extra : v.out])
}
