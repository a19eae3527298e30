interpolate "i" {
  a      = train.a.final
  b      = train.b.final
  data   = dataset.d
  points = 1.5 # ERROR: Invalid value for attribute | "points" must be a whole number from 2 to 10001, got 1.5
}
