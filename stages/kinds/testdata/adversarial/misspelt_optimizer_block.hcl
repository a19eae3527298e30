train "t" { # ERROR: Missing optimizer block
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [6]
  }
  optimiser { # ERROR: Unsupported block type | Did you mean "optimizer"?
    lr = 0.1
  }
}
