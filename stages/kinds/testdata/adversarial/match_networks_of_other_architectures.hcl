dataset "img" {
  source = "stripes"
  size   = 8
}
train "r" {
  data   = dataset.img
  seed   = 1
  epochs = 1
  model {
    kind  = "resnet"
    width = 2
    depth = 8
  }
  optimizer {
    lr = 0.1
  }
}
match "m" {
  reference = train.a.final
  target    = train.r.final # ERROR: Invalid match configuration | target holds a network of architecture resnet 1x8x8 2-4-8x1 4 layernorm but reference holds mlp 4-6-2 relu
}
