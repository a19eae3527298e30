dataset "e" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 2
  train_subset  = -1 # ERROR: Invalid value for attribute | "train_subset" must be a whole number from 0
}
