match "m" {
  reference = train.a.final
  target    = train.b.final
  method = "activation"
  data = dataset.d
  examples = 0.5 # ERROR: Invalid value for attribute | "examples" must be a whole number from 1
}
