dataset "d" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 2
}
train "a" {
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
train "b" {
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
  reference = train.a.checkpoints
  target    = train.b.checkpoints
  at        = -1
}
interpolate "i" {
  a           = train.a.checkpoints
  b           = train.b.checkpoints
  permutation = match.m.permutation
  data        = dataset.d
  points      = 3
}
