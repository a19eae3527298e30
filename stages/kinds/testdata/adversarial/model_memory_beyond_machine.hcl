train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [1048576, 1048576, 1048576] # ERROR: Invalid train configuration | of memory
  }
  optimizer {
    lr = 0.1
  }
}
