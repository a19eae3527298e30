train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = -0.5 # ERROR: Invalid value for attribute | got -0.5
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
