train "x" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0"]
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
  checkpoints = ["4"]
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
match "m" {
  reference = train.x.checkpoints
  target    = train.y.checkpoints
  at        = -1
}
interpolate "i" {
  a           = train.x.checkpoints
  b           = train.y.checkpoints
  permutation = match.m.permutation
  data        = dataset.d
  points      = 3
}
