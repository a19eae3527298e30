train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [6]
  }
  optimizer {
    lr = 1e400 # ERROR: Invalid value for attribute | "lr" must be a number > 0, got 1e+400
  }
}
