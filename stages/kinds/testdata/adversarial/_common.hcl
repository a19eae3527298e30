# Declared beside every adversarial pipeline (TestAdversarial): a small synthetic dataset
# and three small trainings, so that each pipeline holds only its own mistake.

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
train "b" {
  data        = dataset.d
  seed        = 2
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
train "c" {
  data        = dataset.d
  seed        = 3
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
