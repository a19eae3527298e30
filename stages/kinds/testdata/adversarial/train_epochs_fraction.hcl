train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1.5 # ERROR: Invalid value for attribute | "epochs" must be a whole number from 1 to 1000000, got 1.5
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
