# trajectory.hcl for ResNet-20 with LayerNorm: two runs from different seeds keep a
# checkpoint every epoch; permutations are found (weight matching) at several epochs, and
# each is applied to EVERY checkpoint pair (epoch t of run 1 with epoch t of run 2). The seed
# paper's claim: the permutation found at the end aligns all the pairs, while one found
# early aligns later pairs badly.
#
# Subsets, so that it runs cold in under 30 minutes on 2 cores: 20,000 MNIST training
# images (28×28), and the barriers measured on 2,000 training and 2,000 test images.
#
# One pair of runs, no spread: three replicates would take about 90 minutes, beyond an
# example's budget; replicate with for_each over seeds as wlc.hcl and width.hcl do.
#
# Beside weight matching, the final pair is also aligned by activation matching (on the
# 2,000 training images of dataset.eval), and that permutation applied to every pair too.
#
#   modulo run examples/conv_trajectory.hcl
#   modulo export report.conv_trajectory -o conv_trajectory/

variable "dataset" {
  type        = string
  default     = "mnist"
  description = "mnist or fashion-mnist"
}

variable "width" {
  type        = number
  default     = 8
  description = "open_lth's W (16 is ResNet-20's own)"
}

variable "epochs" {
  type    = number
  default = 6
}

variable "permutation_epochs" {
  type        = list(number)
  default     = [1, 3, 6]
  description = "epochs at which a permutation is found; each must be at most epochs"
}

variable "train_subset" {
  type    = number
  default = 20000
}

dataset "data" {
  source       = var.dataset
  train_subset = var.train_subset
}

dataset "eval" {
  source       = var.dataset
  train_subset = 2000
  test_subset  = 2000
}

train "run" {
  for_each = toset(["1", "2"])

  data                = dataset.data
  seed                = tonumber(each.key)
  epochs              = var.epochs
  init                = "kaiming_normal"
  eval_train_examples = 2000
  checkpoints         = [for e in range(var.epochs + 1) : "${e}ep"]

  model {
    kind  = "resnet"
    depth = 20
    width = var.width
  }

  # Adam, not open_lth's SGD: with SGD and momentum 0.9 (lr 0.003 to 0.1, with or without
  # warmup) ResNet-20 with LayerNorm stays on the uniform plateau (test loss 2.30) for the few
  # hundred steps this budget allows on MNIST, in PyTorch as in modulo. Adam at 3e-3 with a
  # cosine schedule: 93.7% test accuracy after 3 epochs of 20,000 images at width 8, where
  # 1e-3 reaches 88.9% (PyTorch 1.13 with this recipe, 87.8%).
  optimizer {
    kind     = "adam"
    lr       = 0.003
    schedule = "cosine"
  }
}

match "at" {
  for_each  = toset([for e in var.permutation_epochs : tostring(e)])
  reference = train.run["1"].checkpoints
  target    = train.run["2"].checkpoints
  at        = tonumber(each.key) # checkpoint e is epoch e
}

# Activation matching of the final pair, on dataset.eval's training images.
match "activations" {
  reference = train.run["1"].final
  target    = train.run["2"].final
  method    = "activation"
  data      = dataset.eval
}

interpolate "activation_aligned" {
  a           = train.run["1"].checkpoints
  b           = train.run["2"].checkpoints
  permutation = match.activations.permutation
  data        = dataset.eval
  points      = 11
}

interpolate "aligned" {
  for_each    = toset([for e in var.permutation_epochs : tostring(e)])
  a           = train.run["1"].checkpoints
  b           = train.run["2"].checkpoints
  permutation = match.at[each.key].permutation
  data        = dataset.eval
  points      = 11
}

interpolate "unaligned" {
  a      = train.run["1"].checkpoints
  b      = train.run["2"].checkpoints
  data   = dataset.eval
  points = 11
}

interpolate "per_epoch" {
  a       = train.run["1"].checkpoints
  b       = train.run["2"].checkpoints
  rematch = true
  data    = dataset.eval
  points  = 11
}

report "conv_trajectory" {
  title       = "Barriers along two ResNet-20 training runs on ${var.dataset} (width ${var.width})"
  description = "Test-loss barrier between epoch t of run 1 and epoch t of run 2, under one permutation found at a given epoch and applied to every pair; unaligned; and each pair matched separately."
  columns     = ["permutation", "epoch", "loss_barrier", "error_barrier"]
  table = concat(
    flatten([for e in var.permutation_epochs : [for p in interpolate.aligned[tostring(e)].pairs : {
      permutation   = "found at epoch ${e}"
      epoch         = p.pair
      loss_barrier  = p.loss_barrier.test
      error_barrier = p.error_barrier.test
    }]]),
    [for p in interpolate.activation_aligned.pairs : { permutation = "activations at epoch ${var.epochs}", epoch = p.pair, loss_barrier = p.loss_barrier.test, error_barrier = p.error_barrier.test }],
    [for p in interpolate.unaligned.pairs : { permutation = "none", epoch = p.pair, loss_barrier = p.loss_barrier.test, error_barrier = p.error_barrier.test }],
    [for p in interpolate.per_epoch.pairs : { permutation = "matched per epoch", epoch = p.pair, loss_barrier = p.loss_barrier.test, error_barrier = p.error_barrier.test }],
  )

  plot "barrier_vs_epoch" {
    title = "Test-loss barrier between epoch t of both runs, one line per permutation"
    table = concat(
      flatten([for e in var.permutation_epochs : [for p in interpolate.aligned[tostring(e)].pairs : { permutation = "found at epoch ${e}", epoch = p.pair, loss_barrier = p.loss_barrier.test }]]),
      [for p in interpolate.activation_aligned.pairs : { permutation = "activations at epoch ${var.epochs}", epoch = p.pair, loss_barrier = p.loss_barrier.test }],
      [for p in interpolate.per_epoch.pairs : { permutation = "matched per epoch", epoch = p.pair, loss_barrier = p.loss_barrier.test }],
    )
    x       = "epoch"
    y       = ["loss_barrier"]
    y_label = "test-loss barrier"
    series  = "permutation"
  }

  plot "with_unaligned" {
    title   = "The same with the unaligned pairs"
    x       = "epoch"
    y       = ["loss_barrier"]
    y_label = "test-loss barrier"
    series  = "permutation"
  }
}
