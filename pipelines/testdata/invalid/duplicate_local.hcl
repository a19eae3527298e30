locals {
  greeting = "hello"
  name     = "world"
}

locals {
  greeting = "bonjour" # ERROR: Duplicate local value
}

text "a" {
  value = "${local.greeting} ${local.name}"
}
