dataset "img" {
  source = "stripes"
}
train "r" {
  data   = dataset.img
  seed   = 1
  epochs = 1
  model {
    kind  = "resnet"
    depth = 21 # ERROR: Invalid train configuration | depth is 6n+2 for n blocks per stage (20, 32, 44, 56, 110), not 21
  }
  optimizer {
    lr = 0.1
  }
}
