text "a" {
  value = "hello"
}

concat "c" {
  parts = [text.a["x"].out] # ERROR: Unexpected instance key
}
