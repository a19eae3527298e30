variable "width" {
  type    = number
  default = 64
}

variable "width" { # ERROR: Duplicate variable
  type    = number
  default = 128
}

text "a" {
  value = "w${var.width}"
}
