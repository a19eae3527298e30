text "a" {
  value = "hello"
  sleep = "soon" # ERROR: Invalid text configuration
}
