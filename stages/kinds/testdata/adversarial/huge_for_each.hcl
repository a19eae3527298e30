dataset "big" {
  for_each = { for p in setproduct(range(320), range(320)) : "${p[0]}-${p[1]}" => p } # ERROR: Too many instances | makes 102400 instances
  source   = "synthetic"
}
