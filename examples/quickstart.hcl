# The quickstart: two small MLPs trained on MNIST from different seeds. `make run` runs it;
# a second run finds everything cached. The alignment and interpolation stages join it in
# a later release, to show the loss barrier between the two before and after permutation.

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
