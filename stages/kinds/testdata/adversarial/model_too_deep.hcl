train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [for i in range(300) : 2] # ERROR: Invalid value for attribute | must be a list of at most 256 elements
  }
  optimizer {
    lr = 0.1
  }
}
