train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = "three" # ERROR: Invalid value for attribute | a number is required
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
