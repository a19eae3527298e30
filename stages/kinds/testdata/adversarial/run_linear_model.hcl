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
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = []
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
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = []
  }
  optimizer {
    lr = 0.1
  }
}
train "c" {
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
  reference = train.a.final
  target    = train.b.final
}
interpolate "i" {
  a      = train.a.final
  b      = match.m.aligned
  data   = dataset.d
  points = 2
}
merge_three "t" {
  networks   = [train.a.final, train.b.final, train.c.final]
  data       = dataset.d
  resolution = 1
  points     = 2
}
