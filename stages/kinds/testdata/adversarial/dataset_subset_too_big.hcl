dataset "e" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 2
  train_subset  = 100 # ERROR: Invalid dataset configuration | train_subset is 100 but the training split has only 64 examples
}
