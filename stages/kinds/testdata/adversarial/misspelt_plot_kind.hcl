report "r" {
  table = [{ x = 1, y = 2 }]
  plot "p" {
    kind = "lne" # ERROR: Invalid value for attribute | did you mean "line"?
    x    = "x"
    y    = ["y"]
  }
}
