merge_three "m" {
  networks = [train.a.final, train.b.final, train.c.final]
  data     = dataset.d
  seed = -2 # ERROR: Invalid value for attribute | "seed" must be a whole number from 0
}
