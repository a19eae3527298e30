train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [6]
    activation = "rleu" # ERROR: Invalid value for attribute | did you mean "relu"?
  }
  optimizer {
    lr = 0.1
  }
}
