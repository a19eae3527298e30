trian "t" { # ERROR: Unknown block type | Did you mean "train"?
  data = dataset.d
}
