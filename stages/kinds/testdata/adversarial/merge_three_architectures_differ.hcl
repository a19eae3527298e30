train "z" {
  data        = dataset.d
  seed        = 3
  epochs      = 1
  batch_size  = 16
  checkpoints = ["0ep", "1ep"]
  model {
    hidden = [5]
  }
  optimizer {
    lr = 0.1
  }
}
merge_three "m" {
  networks = [train.a.final, train.b.final, train.z.final] # ERROR: Invalid merge_three configuration | networks holds a network of architecture
  data     = dataset.d
}
