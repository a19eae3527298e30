match "m" {
  reference = train.a.checkpoints
  target    = train.b.checkpoints
  at        = 5 # ERROR: Invalid match configuration | at = 5 is outside reference, which holds 2 network(s) # ERROR: Invalid match configuration | at = 5 is outside target
}
