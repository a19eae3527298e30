interpolate "i" {
  a    = train.a.checkpoints
  b    = train.b.final # ERROR: Invalid interpolate configuration | a is a sequence of networks but b is a single network
  data = dataset.d
}
