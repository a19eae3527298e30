prune "p" {
  from = train.a
  levels = 1
  fraction = 0 # ERROR: Invalid value for attribute | got 0
}
