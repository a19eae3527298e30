text "a" { # ERROR: Dependency cycle
  value = "${text.b.length}"
}

text "b" {
  value = "${text.a.length}"
}

text "m" {
  value = "${text.a.length}${text.x["k"].length}"
}

text "x" { # ERROR: Dependency cycle
  for_each = toset(["k"])
  value    = "${text.y.length}"
}

text "y" {
  value = "${text.x["k"].length}"
}
