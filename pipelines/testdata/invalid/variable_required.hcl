variable "name" { # ERROR: No value for required variable
  type = string
}

text "a" {
  value = var.name
}
