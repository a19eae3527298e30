dataset "d" {
  source        = "synthetic"
  examples      = 64
  test_examples = 32
  dims          = 4
  classes       = 2
}
train "a" {
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
  }
}
prune "p" {
  from = train.a
  levels = 1
  fraction = 1 # ERROR: Invalid value for attribute | "fraction" must be a number > 0 and < 1, got 1
}
