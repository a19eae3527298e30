interpolate "i" {
  a      = train.a.final
  b      = train.b.final
  data   = dataset.d
  points = 1e8 # ERROR: Invalid value for attribute | got 100000000
}
