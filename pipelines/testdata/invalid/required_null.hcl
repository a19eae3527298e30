text "a" {
  value = null # ERROR: Required attribute is null
}
