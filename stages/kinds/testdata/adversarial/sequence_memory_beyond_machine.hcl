train "x" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = [for i in range(100) : "${i % 4}"]
  model {
    hidden = [6000, 6000]
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
  checkpoints = [for i in range(100) : "${i % 4}"]
  model {
    hidden = [6000, 6000]
  }
  optimizer {
    lr = 0.1
  }
}
interpolate "i" {
  a    = train.x.checkpoints # ERROR: Invalid interpolate configuration | holding the networks of these sequences would take about
  b    = train.y.checkpoints
  data = dataset.d
}
