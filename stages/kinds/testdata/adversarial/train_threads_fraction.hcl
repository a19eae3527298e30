train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  threads = 1.5 # ERROR: Invalid value for attribute | "threads" must be a whole number from 0 to 1024
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
