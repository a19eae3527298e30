prune "p" { # ERROR: Invalid prune configuration | levels is required
  from = train.a
  fraction = 0.5
}
