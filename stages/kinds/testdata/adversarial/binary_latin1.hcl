dataset "d" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 2
}
report "r" {
  title = "Résultats" # ERROR: Invalid UTF-8 | not valid UTF-8 at line 9
  table = [{ x = 1 }]
}
