train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 2
  batch_size  = 64
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
report "r" {
  table = [{ accuracy = train.t.test_accuracy, steps = train.t.steps }]
}
