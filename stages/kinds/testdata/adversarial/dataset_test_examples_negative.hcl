dataset "e" {
  source        = "synthetic"
  examples      = 64
  test_examples = -3 # ERROR: Invalid value for attribute | got -3
  dims          = 4
  classes       = 2
}
