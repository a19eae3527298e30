dataset "e" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 1.5 # ERROR: Invalid value for attribute | "classes" must be a whole number from 1 to 256
}
