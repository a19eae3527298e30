prune "p" {
  from = train.a
  levels = -1 # ERROR: Invalid value for attribute | got -1
}
