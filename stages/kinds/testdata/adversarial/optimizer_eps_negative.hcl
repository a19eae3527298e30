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
    lr = 0.1
    kind = "adam"
    eps = -1e-8 # ERROR: Invalid value for attribute | "eps" must be a number > 0
  }
}
