variable "width" { # ERROR: Invalid value for variable
  type    = number
  default = 3

  validation {
    condition     = var.width % 8 == 0
    error_message = "The width must be a multiple of 8."
  }
}

text "a" {
  value = "w${var.width}"
}
