dataset "img" {
  source = "stripes"
}
train "v" {
  data   = dataset.img
  seed   = 1
  epochs = 1
  model {
    kind  = "vgg"
    plan  = [10, "M", 20]
    width = 16 # ERROR: Invalid train configuration | width 16 scales the plan's width 10 to 10×16/64, not a whole number of channels; use a width that is a multiple of 32
  }
  optimizer {
    lr = 0.1
  }
}
