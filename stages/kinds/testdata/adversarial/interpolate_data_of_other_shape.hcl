dataset "wide" {
  source = "synthetic"
  dims   = 9
}
interpolate "i" {
  a    = train.a.final
  b    = train.b.final
  data = dataset.wide # ERROR: Invalid interpolate configuration | the dataset has 9 features but a takes 4 inputs
}
