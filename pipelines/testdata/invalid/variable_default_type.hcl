variable "width" {
  type    = number
  default = "wide" # ERROR: Invalid default value for variable
}

text "a" {
  value = "w${var.width}"
}
