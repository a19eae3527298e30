text "a" {
  value = "x"
  upper = [1]
}

text "b" {
  value = "y"
  sleep = "soon"
}
