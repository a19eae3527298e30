match "m" {
  reference = train.a.final
  target    = train.b.final
  method    = "activation"
  data      = dataset.d
  examples  = 100000
}
