train "x" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = []
  model {
    hidden = [4096, 4096]
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
  checkpoints = []
  model {
    hidden = [4096, 4096]
  }
  optimizer {
    lr = 0.1
  }
}
match "m" {
  reference = train.x.final
  target    = train.y.final
  method    = "activation"
  data      = dataset.d
  examples  = 2000000000 # ERROR: Invalid match configuration | activation matching on 2000000000 examples would take about
}
