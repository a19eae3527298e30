interpolate "i" {
  a    = 3 # ERROR: Invalid interpolate configuration | a must be a network
  b    = 4 # ERROR: Invalid interpolate configuration | b must be a network
  data = dataset.d
}
