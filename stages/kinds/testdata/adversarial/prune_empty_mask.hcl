prune "p" {
  from = train.a
  mask = [] # ERROR: Invalid value for attribute | "mask" must be a list of 1 to 101 elements, got 0
}
