variable { # ERROR: Invalid variable block
  default = 1
}

variable "a" "b" { # ERROR: Invalid variable block
  default = 2
}

variable "not valid" { # ERROR: Invalid variable block
  default = 3
}
