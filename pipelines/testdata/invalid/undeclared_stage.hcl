text "alpha" {
  value = "a"
}

concat "c" {
  parts = [text.alpah.out] # ERROR: Reference to undeclared stage
}
