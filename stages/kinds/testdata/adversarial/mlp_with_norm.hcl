train "m" {
  data       = dataset.d
  seed       = 1
  epochs     = 1
  batch_size = 16
  model {
    hidden = [4]
    norm   = "none" # ERROR: Invalid train configuration | norm is for vgg and resnet
  }
  optimizer {
    lr = 0.1
  }
}
