match "m" {
  reference = train.a.final
  target    = train.b.final
  max_sweeps = 0 # ERROR: Invalid value for attribute | "max_sweeps" must be a whole number from 1
}
