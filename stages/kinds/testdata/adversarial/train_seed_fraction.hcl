train "t" {
  data        = dataset.d
  seed        = 1.5 # ERROR: Invalid value for attribute | "seed" must be a whole number from 0
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
