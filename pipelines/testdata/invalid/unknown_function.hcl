text "a" {
  value = uppercase("hello") # ERROR: Call to unknown function
}
