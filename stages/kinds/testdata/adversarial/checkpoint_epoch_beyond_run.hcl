train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 3
  batch_size  = 16
  checkpoints = ["0ep", "99ep"] # ERROR: Invalid train configuration | checkpoint 1, "99ep", is beyond the run's 3 epochs
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
