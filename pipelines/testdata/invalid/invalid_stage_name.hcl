text "my stage" { # ERROR: Invalid stage name
  value = "hello"
}

text "1st" { # ERROR: Invalid stage name
  value = "hello"
}

text "ok-name_2" {
  value = "hello"
}
