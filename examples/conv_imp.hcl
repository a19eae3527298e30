# imp.hcl for a convolutional network: iterative magnitude pruning of VGG-11 with LayerNorm
# (open_lth's cifar_vgg_11_W, MNIST padded to 32×32 for its four poolings), and the seed
# paper's question about pruning trajectories: does ONE permutation, found on the two dense
# networks, align every level of two IMP runs from different seeds (level k of A with level
# k of B), as well as matching each pair of levels separately does?
#
# Two runs are pruned for `levels` rounds of 20% of the remaining weights (global magnitude,
# survivors rewound to epoch 1). The level sequences are interpolated three ways: as they
# are, under the dense permutation, and with per-level weight matching. The mask-transport
# variant retrains seed 2 with seed 1's masks, moved into seed 2's coordinates by the
# permutation that aligns seed 1 to seed 2, against the same masks used unmoved.
#
# Subsets, so that it runs cold in under 30 minutes on 2 cores: VGG-11 at width 16 (a
# quarter of its own 64), 20,000 MNIST training images, 3 epochs per level, barriers on 2,000
# training and 2,000 test images. Convolution and linear weights are pruned (open_lth's
# prunable layers), the output layer among them.
#
# One pair of runs, no spread: three replicates would take about 90 minutes, beyond an
# example's budget; replicate with for_each over seeds as wlc.hcl and width.hcl do.
#
#   modulo run examples/conv_imp.hcl

variable "dataset" {
  type        = string
  default     = "mnist"
  description = "mnist or fashion-mnist"
}

variable "levels" {
  type    = number
  default = 5
}

variable "epochs" {
  type    = number
  default = 3
}

variable "width" {
  type        = number
  default     = 16
  description = "open_lth's W (64 is VGG-11's own)"
}

variable "train_subset" {
  type    = number
  default = 20000
}

dataset "data" {
  source       = var.dataset
  pad          = 2
  train_subset = var.train_subset
}

dataset "eval" {
  source       = var.dataset
  pad          = 2
  train_subset = 2000
  test_subset  = 2000
}

train "vgg" {
  for_each = toset(["1", "2"])

  data                = dataset.data
  seed                = tonumber(each.key)
  epochs              = var.epochs
  init                = "kaiming_normal"
  eval_train_examples = 2000
  checkpoints         = ["1ep"] # the rewind point

  model {
    kind  = "vgg"
    plan  = "vgg11"
    width = var.width
  }

  # open_lth's SGD with momentum, at lr 0.01: at its 0.1 (or 0.05) VGG-11 with LayerNorm
  # stays at chance on MNIST for these few epochs; at 0.01 it reaches 97% test accuracy in 3.
  optimizer {
    lr           = 0.01
    momentum     = 0.9
    weight_decay = 1e-4
    schedule     = "cosine"
  }
}

prune "imp" {
  for_each = toset(["1", "2"])

  from     = train.vgg[each.key]
  levels   = var.levels
  fraction = 0.2
  scope    = "global"
  rewind   = "1ep"
}

# One permutation, found once on the dense networks.
match "dense" {
  reference = train.vgg["1"].final
  target    = train.vgg["2"].final
}

interpolate "unaligned" {
  a    = prune.imp["1"].levels
  b    = prune.imp["2"].levels
  data = dataset.eval
}

interpolate "dense_permutation" {
  a           = prune.imp["1"].levels
  b           = prune.imp["2"].levels
  permutation = match.dense.permutation
  data        = dataset.eval
}

interpolate "per_level" {
  a       = prune.imp["1"].levels
  b       = prune.imp["2"].levels
  rematch = true
  data    = dataset.eval
}

# Mask transport: seed 1's masks trained in seed 2's run, moved by the permutation that
# aligns seed 1's dense network to seed 2's, and (the control) not moved.
match "one_to_two" {
  reference = train.vgg["2"].final
  target    = train.vgg["1"].final
}

prune "transported" {
  from        = train.vgg["2"]
  mask        = prune.imp["1"].masks
  permutation = match.one_to_two.permutation
  rewind      = "1ep"
}

prune "unmoved" {
  from   = train.vgg["2"]
  mask   = prune.imp["1"].masks
  rewind = "1ep"
}

output "levels" {
  description = "per level: weights left, test accuracy of both runs, and the test-loss barrier between them three ways"
  value = [for k in range(var.levels + 1) : {
    level             = k
    weights_left      = format("%.1f%%", 100 * (1 - prune.imp["1"].metrics[k].sparsity))
    accuracy          = [prune.imp["1"].metrics[k].test_accuracy, prune.imp["2"].metrics[k].test_accuracy]
    unaligned         = interpolate.unaligned.pairs[k].loss_barrier.test
    dense_permutation = interpolate.dense_permutation.pairs[k].loss_barrier.test
    per_level         = interpolate.per_level.pairs[k].loss_barrier.test
  }]
}

output "mask_transport" {
  description = "test accuracy of seed 2 per level: its own masks, seed 1's masks transported, and unmoved"
  value = [for k in range(var.levels + 1) : {
    level       = k
    own         = prune.imp["2"].metrics[k].test_accuracy
    transported = prune.transported.metrics[k].test_accuracy
    unmoved     = prune.unmoved.metrics[k].test_accuracy
  }]
}

report "conv_imp" {
  title       = "IMP of VGG-11 (width ${var.width}) on ${var.dataset}: one dense permutation against per-level matching"
  description = "Two runs (seeds 1 and 2) pruned ${var.levels} times by 20% of the remaining weights, rewound to epoch 1. Test-loss barrier between level k of one run and level k of the other: unaligned, under the permutation found once on the dense networks, and with each level matched separately."
  columns     = ["level", "weights_left", "accuracy_1", "accuracy_2", "unaligned", "dense_permutation", "per_level", "transported", "unmoved"]
  table = [for k in range(var.levels + 1) : {
    level             = k
    weights_left      = 100 * (1 - prune.imp["1"].metrics[k].sparsity)
    accuracy_1        = prune.imp["1"].metrics[k].test_accuracy
    accuracy_2        = prune.imp["2"].metrics[k].test_accuracy
    unaligned         = interpolate.unaligned.pairs[k].loss_barrier.test
    dense_permutation = interpolate.dense_permutation.pairs[k].loss_barrier.test
    per_level         = interpolate.per_level.pairs[k].loss_barrier.test
    transported       = prune.transported.metrics[k].test_accuracy
    unmoved           = prune.unmoved.metrics[k].test_accuracy
  }]

  plot "barrier_vs_level" {
    title   = "Test-loss barrier between level k of two IMP runs"
    x       = "level"
    y       = ["unaligned", "dense_permutation", "per_level"]
    y_label = "test-loss barrier"
  }

  plot "aligned_barrier_vs_level" {
    title   = "The aligned pairs only: one dense permutation against matching each level"
    x       = "level"
    y       = ["dense_permutation", "per_level"]
    y_label = "test-loss barrier"
  }

  plot "accuracy_vs_weights" {
    title   = "Test accuracy against the weights left"
    x       = "weights_left"
    x_label = "weights left (%)"
    y       = ["accuracy_1", "accuracy_2", "transported", "unmoved"]
    y_label = "test accuracy"
    log_x   = true
  }
}
