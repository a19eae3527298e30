dataset "e" {
  source        = "synthetic"
  examples      = 2000000000 # ERROR: Invalid dataset configuration | the synthetic data would take
  test_examples = 32
  dims          = 100000
  classes       = 2
}
