variable "widths" {
  type    = list(number)
  default = [64, 128]
}

text "a" {
  for_each = toset(var.widths) # ERROR: Invalid for_each argument
  value    = "w${each.key}"
}
