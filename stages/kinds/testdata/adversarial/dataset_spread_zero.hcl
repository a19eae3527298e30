dataset "e" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 2
  spread        = 0 # ERROR: Invalid value for attribute | "spread" must be a number > 0
}
