prune "p" {
  from = train.a
  levels = 1
  scope = "globl" # ERROR: Invalid value for attribute | did you mean "global"?
}
