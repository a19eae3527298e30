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
    hidden = [9]
  }
  optimizer {
    lr = 0.1
  }
}
prune "pa" {
  from   = train.x
  levels = 1
}
prune "pb" {
  from = train.y
  mask = prune.pa.masks # ERROR: Invalid prune configuration | mask belongs to a network of architecture mlp 4-6-2 relu, but the train node's run is mlp 4-9-2 relu
}
