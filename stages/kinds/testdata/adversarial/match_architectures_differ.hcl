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
    hidden = [8]
  }
  optimizer {
    lr = 0.1
  }
}
match "m" {
  reference = train.x.final
  target    = train.y.final # ERROR: Invalid match configuration | target holds a network of architecture mlp 4-8-2 relu but reference holds mlp 4-6-2 relu
}
