merge_three "m" {
  networks = [train.a.final, train.b.final, train.c.final]
  data     = dataset.d
  resolution = 0.5 # ERROR: Invalid value for attribute | "resolution" must be a whole number from 1 to 200, got 0.5
}
