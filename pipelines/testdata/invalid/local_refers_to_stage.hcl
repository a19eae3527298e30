text "a" {
  value = "hello"
}

locals {
  n = text.a.length # ERROR: Local value refers to a stage
}

text "b" {
  value = "n=${local.n}"
}
