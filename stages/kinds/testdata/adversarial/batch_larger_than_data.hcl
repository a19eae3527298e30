train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 128 # ERROR: Invalid train configuration | batch_size is 128 but the dataset has only 64 training examples
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
