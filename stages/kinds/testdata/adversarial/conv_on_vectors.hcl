train "r" {
  data       = dataset.d
  seed       = 1
  epochs     = 1
  batch_size = 16
  model {
    kind = "resnet" # ERROR: Invalid train configuration | a resnet takes images, but the dataset holds feature vectors of 4 values
  }
  optimizer {
    lr = 0.1
  }
}
