text "a" { # ERROR: Dependency cycle
  value = "a${text.b.length}"
}

text "b" {
  value = "b${text.a.length}"
}
