train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 0.5 # ERROR: Invalid value for attribute | "batch_size" must be a whole number from 1
  checkpoints = ["0ep", "1ep"]
  threads = 1
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
