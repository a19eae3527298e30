text "a" { # ERROR: Missing required argument
  upper = true
}

concat "b" { # ERROR: Missing required argument
  sep = ", "
}
