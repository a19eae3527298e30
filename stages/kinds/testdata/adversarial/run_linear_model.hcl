train "x" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = []
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
    hidden = []
  }
  optimizer {
    lr = 0.1
  }
}
train "z" {
  data        = dataset.d
  seed        = 3
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = []
  }
  optimizer {
    lr = 0.1
  }
}
match "m" {
  reference = train.x.final
  target    = train.y.final
}
interpolate "i" {
  a      = train.x.final
  b      = match.m.aligned
  data   = dataset.d
  points = 2
}
merge_three "t" {
  networks   = [train.x.final, train.y.final, train.z.final]
  data       = dataset.d
  resolution = 1
  points     = 2
}
