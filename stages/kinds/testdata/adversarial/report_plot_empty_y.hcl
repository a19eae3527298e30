report "r" {
  table = [{ x = 1, y = 2 }]
  plot "p" {
    x = "x"
    y = [] # ERROR: Invalid value for attribute | "y" must be a list of 1 to 100 elements, got 0
  }
}
