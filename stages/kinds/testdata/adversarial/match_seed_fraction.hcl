match "m" {
  reference = train.a.final
  target    = train.b.final
  seed = 0.1 # ERROR: Invalid value for attribute | "seed" must be a whole number
}
