train "t" {
  data        = dataset.d
  seed        = 1
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  eval_train_examples = 0.5 # ERROR: Invalid value for attribute | "eval_train_examples" must be a whole number from 1
  model {
    hidden = [6]
  }
  optimizer {
    lr = 0.1
  }
}
