match "m" {
  reference = train.a.final
  target    = train.b.final
  method = "wieght" # ERROR: Invalid value for attribute | did you mean "weight"?
}
