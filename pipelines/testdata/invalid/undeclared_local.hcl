locals {
  greeting = "hello"
}

text "a" {
  value = local.greting # ERROR: Reference to undeclared local value
}
