prune "p" {
  from = train.a
  levels = 1
  rewind = "9ep" # ERROR: Invalid prune configuration | rewind "9ep" is step 36, beyond the 4 steps
}
