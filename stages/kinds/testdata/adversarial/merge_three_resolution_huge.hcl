merge_three "m" {
  networks = [train.a.final, train.b.final, train.c.final]
  data     = dataset.d
  resolution = 100000 # ERROR: Invalid value for attribute | got 100000
}
