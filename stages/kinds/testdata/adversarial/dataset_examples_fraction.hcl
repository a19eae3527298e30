dataset "e" {
  source        = "synthetic"
  examples      = 0.5 # ERROR: Invalid value for attribute | "examples" must be a whole number from 1
  test_examples = 32
  dims          = 4
  classes       = 2
}
