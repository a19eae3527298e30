dataset "e" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 2
  seed          = 0.25 # ERROR: Invalid value for attribute | "seed" must be a whole number
}
