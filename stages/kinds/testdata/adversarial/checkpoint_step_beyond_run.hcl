train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0", "100000"] # ERROR: Invalid train configuration | checkpoint 1, step 100000, is beyond the run's 4 steps
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
