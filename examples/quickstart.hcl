# The quickstart: two small MLPs trained on MNIST from different seeds, then the loss and
# error barriers on the straight line between them, before and after permuting the second
# one's hidden units to match the first (weight matching). `make run` runs it; a second
# run finds everything cached.
#
# Budget: seconds, as the first thing a user runs, so one pair of seeds and no spread;
# wlc.hcl measures the same barriers over three pairs per width, with intervals.

variable "width" {
  type        = number
  default     = 128
  description = "width of the hidden layers"
}

variable "epochs" {
  type    = number
  default = 3
}

variable "dataset" {
  type        = string
  default     = "mnist"
  description = "mnist or fashion-mnist"
}

dataset "mnist" {
  source = var.dataset
}

train "net" {
  for_each = toset(["1", "2"])

  data       = dataset.mnist
  seed       = tonumber(each.key)
  epochs     = var.epochs
  batch_size = 128

  model {
    hidden = [var.width, var.width]
  }

  optimizer {
    kind         = "sgd"
    lr           = 0.05
    momentum     = 0.9
    weight_decay = 1e-4
    warmup       = "100"
    schedule     = "cosine"
  }

  checkpoints = ["0ep", "1ep", "${var.epochs}ep"]
}

output "test_accuracy" {
  value       = { for seed, run in train.net : seed => run.test_accuracy }
  description = "MNIST test accuracy of each run"
}

match "seeds" {
  reference = train.net["1"].final
  target    = train.net["2"].final
  method    = "weight"
}

interpolate "before" {
  a    = train.net["1"].final
  b    = train.net["2"].final
  data = dataset.mnist
}

interpolate "after" {
  a    = train.net["1"].final
  b    = match.seeds.aligned
  data = dataset.mnist
}

output "loss_barrier" {
  value       = { before = interpolate.before.loss_barrier.test, after = interpolate.after.loss_barrier.test }
  description = "test-loss barrier between the two runs, before and after alignment"
}

output "error_barrier" {
  value = { before = interpolate.before.error_barrier.test, after = interpolate.after.error_barrier.test }
}

# modulo export report.quickstart -o quickstart/ writes the table, the plot and index.html.
report "quickstart" {
  title       = "Two ${var.width}-wide MLPs on ${var.dataset}, before and after weight matching"
  description = "Test loss and error on the straight line between two networks trained from seeds 1 and 2."
  columns     = ["alignment", "loss_barrier", "error_barrier", "sweeps"]
  table = [
    { alignment = "none", loss_barrier = interpolate.before.loss_barrier.test, error_barrier = interpolate.before.error_barrier.test, sweeps = 0 },
    { alignment = "weight matching", loss_barrier = interpolate.after.loss_barrier.test, error_barrier = interpolate.after.error_barrier.test, sweeps = match.seeds.iterations },
  ]

  plot "interpolation" {
    title  = "Test loss along the line from seed 1 (alpha = 0) to seed 2 (alpha = 1)"
    table  = concat([for r in interpolate.before.curve : merge(r, { alignment = "none" })], [for r in interpolate.after.curve : merge(r, { alignment = "weight matching" })])
    x      = "alpha"
    y      = ["test_loss"]
    series = "alignment"
  }
}
