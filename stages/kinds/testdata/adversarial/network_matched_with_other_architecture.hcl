network "n" {
  file = "nets/mlp.pt"
  data = dataset.d
  model {
    hidden = [7]
  }
}
match "m" {
  reference = train.a.final
  target    = network.n # ERROR: Invalid match configuration | target holds a network of architecture mlp 4-7-2 relu but reference holds mlp 4-6-2 relu
}
