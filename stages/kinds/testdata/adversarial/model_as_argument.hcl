train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model = { hidden = [6] } # ERROR: Unsupported argument | "model" is a block, not an argument
  optimizer {
    lr = 0.1
  }
}
