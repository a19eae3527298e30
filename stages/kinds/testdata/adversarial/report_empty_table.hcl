report "r" {
  table = [] # ERROR: Invalid report configuration | the table has no rows
}
