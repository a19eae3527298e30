text "a" { # ERROR: Dependency cycle
  value = "a${text.a.length}"
}

text "b" {
  value = "b${text.a.length}"
}
