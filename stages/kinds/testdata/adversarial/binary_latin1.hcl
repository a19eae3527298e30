report "r" {
  title = "Résultats" # ERROR: Invalid UTF-8 | not valid UTF-8 at line 2
  table = [{ x = 1 }]
}
