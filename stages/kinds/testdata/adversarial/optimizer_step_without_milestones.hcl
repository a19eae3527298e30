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
    schedule = "step" # ERROR: Invalid train configuration | the step schedule needs milestones
  }
}
