train "t" {
  data        = dataset.d
  seed        = 1e30 # ERROR: Invalid value for attribute | got 1e+30
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
