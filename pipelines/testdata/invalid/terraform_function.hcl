locals {
  notes = file("notes.txt") # ERROR: Function not available
}

text "a" {
  value = local.notes
}
