train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [4, 0] # ERROR: Invalid value for attribute | element 1 must be a whole number from 1
  }
  optimizer {
    lr = 0.1
  }
}
