dataset "m" {
  source      = "mnist"
  test_subset = 20000 # ERROR: Invalid dataset configuration | test_subset is 20000 but the test split has only 10000 examples
}
