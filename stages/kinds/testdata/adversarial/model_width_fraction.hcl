train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [8.5] # ERROR: Invalid value for attribute | element 0 must be a whole number from 1 to 1048576, got 8.5
  }
  optimizer {
    lr = 0.1
  }
}
