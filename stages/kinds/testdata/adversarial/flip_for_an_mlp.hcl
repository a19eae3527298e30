train "m" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  random_flip = true # ERROR: Invalid train configuration | random_flip is for vgg and resnet, which see images; an mlp sees a vector
  model {
    hidden = [4]
  }
  optimizer {
    lr = 0.1
  }
}
