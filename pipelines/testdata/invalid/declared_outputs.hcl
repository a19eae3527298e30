emit "e" {
  out "greeting" {
    kind  = "text"
    value = "hello"
  }
  out "greeting" { # ERROR: Duplicate output declaration
    kind  = "text"
    value = "again"
  }
  out "c" { # ERROR: Invalid output declaration
    kind  = "colour"
    value = "red"
  }
}

concat "c" {
  parts = [emit.e.nope] # ERROR: Reference to undeclared output
}
