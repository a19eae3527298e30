dataset "img" {
  source = "stripes"
  size   = 8
}
train "v" {
  data   = dataset.img
  seed   = 1
  epochs = 1
  model {
    kind = "vgg"
    plan = [64, "M", 64, "M", 64, "M", 64, "M", 64] # ERROR: Invalid train configuration | max-pool 4 (plan entry 7) shrinks the 8×8 image below 1×1
  }
  optimizer {
    lr = 0.1
  }
}
