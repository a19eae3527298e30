train "t" {
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
    warmup = "5ep" # ERROR: Invalid train configuration | warmup "5ep" is 20 steps, longer than the run's 4 steps
  }
}
