match "m" {
  reference = train.a.final
  target    = train.b.final
  at = 0.5 # ERROR: Invalid value for attribute | "at" must be a whole number
}
