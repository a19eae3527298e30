text "a" {
  value = "hello"
}

concat "c" {
  parts = [text.a.out, text.a.length] # ERROR: Invalid value for attribute
}
