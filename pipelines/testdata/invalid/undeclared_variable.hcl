variable "name" {
  default = "world"
}

text "a" {
  value = "hello ${var.nmae}" # ERROR: Reference to undeclared variable
}

text "b" {
  value = var.colour # ERROR: Reference to undeclared variable
}
