text "a" {
  value = "hello"
}

concat "c" {
  parts = [txt.a.out] # ERROR: Unknown reference
}
