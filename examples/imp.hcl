# Iterative magnitude pruning of LeNet-300-100 (784-300-100-10) on MNIST, and the seed
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
# Budget: about 2 minutes cold on 2 cores, with one pair of runs and no spread; three
# pairs would take about 7 (for_each over seed pairs as in wlc.hcl).
#
#   modulo run examples/imp.hcl
#   modulo run -var dataset=fashion-mnist examples/imp.hcl

variable "dataset" {
  type        = string
  default     = "mnist"
  description = "mnist or fashion-mnist"
}

variable "levels" {
  type    = number
  default = 10
}

variable "epochs" {
  type    = number
  default = 10
}

dataset "data" {
  source = var.dataset
}

train "lenet" {
  for_each = toset(["1", "2"])

  data        = dataset.data
  seed        = tonumber(each.key)
  epochs      = var.epochs
  checkpoints = ["1ep"] # the rewind point

  model {
    hidden = [300, 100]
  }

  optimizer {
    lr           = 0.05
    momentum     = 0.9
    weight_decay = 1e-4
    schedule     = "cosine"
  }
}

prune "imp" {
  for_each = toset(["1", "2"])

  from     = train.lenet[each.key]
  levels   = var.levels
  fraction = 0.2
  scope    = "global"
  rewind   = "1ep"
}

# One permutation, found once on the dense networks.
match "dense" {
  reference = train.lenet["1"].final
  target    = train.lenet["2"].final
}

interpolate "unaligned" {
  a    = prune.imp["1"].levels
  b    = prune.imp["2"].levels
  data = dataset.data
}

interpolate "dense_permutation" {
  a           = prune.imp["1"].levels
  b           = prune.imp["2"].levels
  permutation = match.dense.permutation
  data        = dataset.data
}

interpolate "per_level" {
  a       = prune.imp["1"].levels
  b       = prune.imp["2"].levels
  rematch = true
  data    = dataset.data
}

# Mask transport: seed 1's masks trained in seed 2's run, moved by the permutation that
# aligns seed 1's dense network to seed 2's, and (the control) not moved.
# One permutation for the whole pair of level sequences: it maximises the weight-matching
# objective summed over every level, started from the dense pair's (at = 0).
match "levels" {
  reference = prune.imp["1"].levels
  target    = prune.imp["2"].levels
  sequence  = true
  at        = 0
}

interpolate "sequence_permutation" {
  a           = prune.imp["1"].levels
  b           = prune.imp["2"].levels
  permutation = match.levels.permutation
  data        = dataset.data
}

match "one_to_two" {
  reference = train.lenet["2"].final
  target    = train.lenet["1"].final
}

prune "transported" {
  from        = train.lenet["2"]
  mask        = prune.imp["1"].masks
  permutation = match.one_to_two.permutation
  rewind      = "1ep"
}

prune "unmoved" {
  from   = train.lenet["2"]
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
    sequence          = interpolate.sequence_permutation.pairs[k].loss_barrier.test
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

report "imp" {
  title       = "IMP of LeNet-300-100 on ${var.dataset}: one dense permutation against per-level matching"
  description = "Two runs (seeds 1 and 2) pruned ${var.levels} times by 20% of the remaining weights, rewound to epoch 1. Test-loss barrier between level k of one run and level k of the other: unaligned, under the permutation found once on the dense networks, under one permutation for the whole sequence (maximising the objective summed over the levels), and with each level matched separately."
  columns     = ["level", "weights_left", "accuracy_1", "accuracy_2", "unaligned", "dense_permutation", "sequence_permutation", "per_level", "transported", "unmoved"]
  table = [for k in range(var.levels + 1) : {
    level                = k
    weights_left         = 100 * (1 - prune.imp["1"].metrics[k].sparsity)
    accuracy_1           = prune.imp["1"].metrics[k].test_accuracy
    accuracy_2           = prune.imp["2"].metrics[k].test_accuracy
    unaligned            = interpolate.unaligned.pairs[k].loss_barrier.test
    dense_permutation    = interpolate.dense_permutation.pairs[k].loss_barrier.test
    per_level            = interpolate.per_level.pairs[k].loss_barrier.test
    sequence_permutation = interpolate.sequence_permutation.pairs[k].loss_barrier.test
    transported          = prune.transported.metrics[k].test_accuracy
    unmoved              = prune.unmoved.metrics[k].test_accuracy
  }]

  plot "barrier_vs_level" {
    title   = "Test-loss barrier between level k of two IMP runs"
    x       = "level"
    y       = ["unaligned", "dense_permutation", "per_level"]
    y_label = "test-loss barrier"
  }

  plot "aligned_barrier_vs_level" {
    title   = "The aligned pairs only: one dense permutation, one for the sequence, and each level matched"
    x       = "level"
    y       = ["dense_permutation", "sequence_permutation", "per_level"]
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
