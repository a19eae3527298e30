text "a" {
  value = "hello"
}

concat "c" {
  parts = [for k, v in text : v.out] # ERROR: Invalid stage reference
}
