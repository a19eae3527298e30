text "a" {
  value = "hello"
}

concat "c" {
  parts = [text.a.outt] # ERROR: Reference to undeclared output
}
