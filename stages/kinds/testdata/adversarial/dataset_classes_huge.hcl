dataset "e" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 1000 # ERROR: Invalid value for attribute | got 1000
}
