# "uppr" is a typo of "upper": the detail suggests it.
text "a" {
  value = "hello"
  uppr  = true # ERROR: Unsupported argument
}
