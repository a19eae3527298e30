interpolate "i" {
  a      = train.a.final
  b      = train.b.final
  data   = dataset.d
  points = 1 # ERROR: Invalid value for attribute | got 1
}
