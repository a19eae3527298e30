merge_three "m" {
  networks = [train.a.final, train.b.final] # ERROR: Invalid value for attribute | got 2
  data     = dataset.d
}
