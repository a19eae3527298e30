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
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
match "m" {
  reference = train.y.checkpoints
  target    = train.x.checkpoints # ERROR: Invalid match configuration | target is an empty sequence
}
