dataset "img" {
  source = "stripes"
}
train "v" {
  data   = dataset.img
  seed   = 1
  epochs = 1
  model {
    kind   = "vgg"
    hidden = [16] # ERROR: Invalid train configuration | a vgg has no hidden layers; its layers are given by plan and width
  }
  optimizer {
    lr = 0.1
  }
}
