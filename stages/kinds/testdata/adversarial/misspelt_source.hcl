dataset "e" {
  source = "mnsit" # ERROR: Invalid value for attribute | did you mean "mnist"?
}
