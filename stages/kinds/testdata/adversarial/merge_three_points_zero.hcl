merge_three "m" {
  networks = [train.a.final, train.b.final, train.c.final]
  data     = dataset.d
  points = 0 # ERROR: Invalid value for attribute | "points" must be a whole number from 2
}
