text "a" {
  value = "hello"

  options { # ERROR: Unsupported block type
    upper = true
  }
}
