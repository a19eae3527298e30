dataset "e" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 2.5 # ERROR: Invalid value for attribute | "dims" must be a whole number from 1 to 1048576, got 2.5
  classes       = 2
}
