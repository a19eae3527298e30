interpolate "i" {
  a              = train.a.final
  b              = train.b.final
  data           = dataset.d
  train_examples = 0 # ERROR: Invalid value for attribute | "train_examples" must be a whole number from 1
}
