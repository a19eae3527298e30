train "x" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
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
  checkpoints = ["0ep"]
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
interpolate "i" {
  a    = train.x.checkpoints
  b    = train.y.checkpoints # ERROR: Invalid interpolate configuration | a has 2 networks and b has 1
  data = dataset.d
}
