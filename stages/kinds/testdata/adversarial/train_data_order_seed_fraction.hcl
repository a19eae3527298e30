train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  data_order_seed = 2.5 # ERROR: Invalid value for attribute | "data_order_seed" must be a whole number
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
