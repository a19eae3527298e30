text "a" "b" { # ERROR: Wrong number of labels on text block
  value = "hello"
}

concat { # ERROR: Wrong number of labels on concat block
  parts = []
}
