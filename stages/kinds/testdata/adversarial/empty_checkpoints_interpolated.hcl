train "x" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = []
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
train "y" {
  data        = dataset.d
  seed        = 2
  epochs      = 1
  batch_size  = 16
  checkpoints = []
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
interpolate "i" {
  a    = train.x.checkpoints # ERROR: Invalid interpolate configuration | a is an empty sequence
  b    = train.y.checkpoints # ERROR: Invalid interpolate configuration | b is an empty sequence
  data = dataset.d
}
