text "a" {
  value = "hello"
}

text "b" {
  value = = "oops" # ERROR: Invalid expression
}
