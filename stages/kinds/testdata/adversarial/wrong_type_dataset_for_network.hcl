match "m" {
  reference = dataset.d # ERROR: Invalid match configuration | reference must be a network
  target    = train.b.final
}
