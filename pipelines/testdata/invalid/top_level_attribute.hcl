greeting = "hello" # ERROR: Unexpected top-level argument

text "a" {
  value = "hello"
}
