train "ünïcode" {
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
report "r" {
  title       = "Ergebnisse — ✓"
  description = ""
  table       = [{ "naïve" = "é", x = 1 }]
}
