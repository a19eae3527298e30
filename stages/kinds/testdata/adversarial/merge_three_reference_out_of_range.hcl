merge_three "m" {
  networks = [train.a.final, train.b.final, train.c.final]
  data     = dataset.d
  reference = 3 # ERROR: Invalid value for attribute | "reference" must be a whole number from 0 to 2, got 3
}
