variable "name" {
  type    = strng # ERROR: Invalid type specification
  default = "x"
}
