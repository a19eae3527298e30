train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  epoch = 3 # ERROR: Unsupported argument | Did you mean "epochs"?
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
