# Valid: examples beyond a small dataset's are capped at its size when the run takes them,
# so the memory estimate at plan time must count the dataset's 64, not the 10^9 asked for.
match "m" {
  reference = train.a.final
  target    = train.b.final
  method    = "activation"
  data      = dataset.d
  examples  = 1000000000
}
