dataset "d" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 2
}
merge_three "m" {
  networks = [] # ERROR: Invalid value for attribute | "networks" must be a list of exactly 3 elements, got 0
  data     = dataset.d
}
