prune "p" {
  from = train.a
  levels = 1
  fraction = 1 # ERROR: Invalid value for attribute | "fraction" must be a number > 0 and < 1, got 1
}
