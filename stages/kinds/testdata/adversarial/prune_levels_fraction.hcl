prune "p" {
  from = train.a
  levels = 1.5 # ERROR: Invalid value for attribute | "levels" must be a whole number from 0 to 100, got 1.5
}
