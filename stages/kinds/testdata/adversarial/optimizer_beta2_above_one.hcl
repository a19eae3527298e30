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
    beta2 = 1.5 # ERROR: Invalid value for attribute | "beta2" must be a number ≥ 0 and < 1, got 1.5
  }
}
