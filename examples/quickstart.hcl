# The quickstart: two small MLPs trained on MNIST from different seeds, then the loss and
# error barriers on the straight line between them, before and after permuting the second
# one's hidden units to match the first (weight matching). `make run` runs it; a second
# run finds everything cached.

variable "width" {
  type        = number
  default     = 128
  description = "width of the hidden layers"
}

variable "epochs" {
  type    = number
  default = 3
}

dataset "mnist" {
  source = "mnist"
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
