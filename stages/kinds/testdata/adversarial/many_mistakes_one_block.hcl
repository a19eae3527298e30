train "t" { # ERROR: Missing optimizer block
  data       = dataset.d
  seed       = 1.5 # ERROR: Invalid value for attribute | "seed"
  epochs     = 1.5 # ERROR: Invalid value for attribute | "epochs"
  batch_size = 0.5 # ERROR: Invalid value for attribute | "batch_size"
  mdoel = 3 # ERROR: Unsupported argument | Did you mean the block model
  model {
    hidden = [8]
  }
}
