dataset "e" {
  source = "mnist"
  pad    = 1.5 # ERROR: Invalid value for attribute | "pad" must be a whole number from 0 to 64
}
