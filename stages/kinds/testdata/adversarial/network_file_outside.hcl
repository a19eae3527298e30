network "abs" {
  file = "/shared/nets/a.pt" # ERROR: Invalid network configuration | "/shared/nets/a.pt" is absolute; file is relative to the pipeline file
  data = dataset.d
  model {
    hidden = [6]
  }
}
network "up" {
  file = "../nets/a.pt" # ERROR: Invalid network configuration | "../nets/a.pt" leaves the pipeline's directory
  data = dataset.d
  model {
    hidden = [6]
  }
}
