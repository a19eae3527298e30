merge_three "m" {
  networks = [] # ERROR: Invalid value for attribute | "networks" must be a list of exactly 3 elements, got 0
  data     = dataset.d
}
