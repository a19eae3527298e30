dataset "e" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 2
  pad           = 2 # ERROR: Invalid dataset configuration | pad applies to images
}
