dataset "d" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 2
}
trian "t" { # ERROR: Unknown block type | Did you mean "train"?
  data = dataset.d
}
