train "t" { # ERROR: Missing required argument
  data { # ERROR: Unsupported block type | "data" is an argument, not a block
  }
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
