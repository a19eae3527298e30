text "a" {
  value   = "hello"
  threads = "many" # ERROR: Invalid value for attribute
}
