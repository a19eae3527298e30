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
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [6]
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
    hidden = [7]
  }
  optimizer {
    lr = 0.1
  }
}
train "e" {
  data        = dataset.d
  seed        = 4
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [7]
  }
  optimizer {
    lr = 0.1
  }
}
match "m" {
  reference = train.z.final
  target    = train.e.final
}
interpolate "i" {
  a           = train.x.final
  b           = train.y.final
  permutation = match.m.permutation # ERROR: Invalid interpolate configuration | the permutation is for networks of architecture mlp 4-7-2 relu but b holds mlp 4-6-2 relu
  data        = dataset.d
}
