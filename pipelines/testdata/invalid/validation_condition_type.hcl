variable "mode" { # ERROR: Invalid value for variable
  type    = string
  default = "slow"

  validation {
    condition     = contains(["fast", "exact"], var.mode)
    error_message = "The mode must be fast or exact."
  }
}

variable "n" {
  type    = number
  default = 1

  validation {
    condition     = "maybe" # ERROR: Invalid validation condition
    error_message = "n must be positive."
  }
}
