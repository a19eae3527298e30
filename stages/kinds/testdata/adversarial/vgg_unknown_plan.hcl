dataset "img" {
  source = "stripes"
}
train "v" {
  data   = dataset.img
  seed   = 1
  epochs = 1
  model {
    kind = "vgg"
    plan = "vgg12" # ERROR: Invalid value for attribute | "plan" is not a plan: unknown plan "vgg12"
  }
  optimizer {
    lr = 0.1
  }
}
