train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [1e9] # ERROR: Invalid value for attribute | got 1000000000
  }
  optimizer {
    lr = 0.1
  }
}
