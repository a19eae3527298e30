# The estimate counts the examples the run takes: min(examples, the dataset's).
dataset "big" {
  source        = "synthetic"
  examples      = 200000000
  test_examples = 32
  dims          = 4
  classes       = 2
}
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
  data      = dataset.big
  examples  = 2000000000 # ERROR: Invalid match configuration | activation matching on 200000000 examples would take about
}
