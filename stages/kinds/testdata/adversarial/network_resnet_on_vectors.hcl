network "n" {
  file = "nets/resnet.pt"
  data = dataset.d
  model {
    kind = "resnet" # ERROR: Invalid network configuration | a resnet takes images, but the dataset holds feature vectors of 4 values
  }
}
