dataset "img" {
  source = "stripes"
  size   = 8
}
dataset "big" {
  source = "stripes"
  size   = 10
}
train "r" {
  for_each = toset(["1", "2"])
  data     = dataset.img
  seed     = tonumber(each.key)
  epochs   = 1
  model {
    kind  = "resnet"
    width = 2
    depth = 8
  }
  optimizer {
    lr = 0.1
  }
}
interpolate "i" {
  a    = train.r["1"].final
  b    = train.r["2"].final
  data = dataset.big # ERROR: Invalid interpolate configuration | the dataset's images are 1×10×10 but a takes 1×8×8
}
