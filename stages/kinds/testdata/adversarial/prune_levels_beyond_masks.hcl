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
prune "pa" {
  from   = train.x
  levels = 1
}
prune "pb" {
  from   = train.y
  mask   = prune.pa.masks
  levels = 4 # ERROR: Invalid prune configuration | levels = 4 needs 5 masks but mask holds 2
}
