text "a" {
  value = "hello"
}

concat "c" {
  parts = text.a.out # ERROR: Invalid value for attribute
}
