# A typo of a stage kind: the diagnostic suggests "text".
txet "a" { # ERROR: Unknown block type
  value = "hello"
}
