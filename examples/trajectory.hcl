# Simultaneous weak linear connectivity along training trajectories: two runs from
# different seeds keep a checkpoint every epoch; permutations are found (weight matching) at
# several epochs — and one for the whole sequence, maximising the objective summed over all
# pairs — and each is applied to EVERY checkpoint pair (epoch t of run 1 with epoch t
# of run 2). The seed paper's claim: the permutation found at the end aligns all the pairs,
# while one found early aligns later pairs badly. Replicated: var.replicates pairs of runs
# (seeds 1-2, 3-4, 5-6); the report gives each barrier's mean over the pairs with a 95%
# Student-t interval.
#
# Budget: 6 runs of 10 epochs and 3 × 6 sequence interpolations of 11 pairs; about 3
# minutes cold on 2 cores (-var replicates=1: a third of it).
#
#   modulo run examples/trajectory.hcl
#   modulo export report.trajectory -o trajectory/

variable "dataset" {
  type        = string
  default     = "mnist"
  description = "mnist or fashion-mnist"
}

variable "width" {
  type    = number
  default = 256
}

variable "epochs" {
  type    = number
  default = 10
}

variable "replicates" {
  type        = number
  default     = 3
  description = "pairs of runs"
}

variable "permutation_epochs" {
  type        = list(number)
  default     = [1, 2, 5, 10]
  description = "epochs at which a permutation is found; each must be at most epochs"
}

dataset "data" {
  source = var.dataset
}

locals {
  # Pair r: the runs with seeds 2r+1 and 2r+2; one interpolation per pair and permutation.
  pairs        = { for r in range(var.replicates) : tostring(r) => { a = tostring(2 * r + 1), b = tostring(2 * r + 2) } }
  permutations = { for p in setproduct(range(var.replicates), var.permutation_epochs) : "r${p[0]}-e${p[1]}" => { pair = tostring(p[0]), epoch = p[1] } }
}

train "run" {
  for_each = toset([for s in range(1, 2 * var.replicates + 1) : tostring(s)])

  data        = dataset.data
  seed        = tonumber(each.key)
  epochs      = var.epochs
  checkpoints = [for e in range(var.epochs + 1) : "${e}ep"]

  model {
    hidden = [var.width, var.width]
  }

  optimizer {
    lr           = 0.05
    momentum     = 0.9
    weight_decay = 1e-4
    warmup       = "100"
    schedule     = "cosine"
  }
}

match "at" {
  for_each  = local.permutations
  reference = train.run[local.pairs[each.value.pair].a].checkpoints
  target    = train.run[local.pairs[each.value.pair].b].checkpoints
  at        = each.value.epoch # checkpoint e is epoch e
}

interpolate "aligned" {
  for_each    = local.permutations
  a           = train.run[local.pairs[each.value.pair].a].checkpoints
  b           = train.run[local.pairs[each.value.pair].b].checkpoints
  permutation = match.at[each.key].permutation
  data        = dataset.data
  points      = 11
}

# One permutation for the whole pair of trajectories: it maximises the weight-matching
# objective summed over all 11 checkpoint pairs (started from the one found at epoch 10).
match "sequence" {
  for_each  = local.pairs
  reference = train.run[each.value.a].checkpoints
  target    = train.run[each.value.b].checkpoints
  sequence  = true
}

interpolate "sequence" {
  for_each    = local.pairs
  a           = train.run[each.value.a].checkpoints
  b           = train.run[each.value.b].checkpoints
  permutation = match.sequence[each.key].permutation
  data        = dataset.data
  points      = 11
}

interpolate "unaligned" {
  for_each = local.pairs
  a        = train.run[each.value.a].checkpoints
  b        = train.run[each.value.b].checkpoints
  data     = dataset.data
  points   = 11
}

interpolate "per_epoch" {
  for_each = local.pairs
  a        = train.run[each.value.a].checkpoints
  b        = train.run[each.value.b].checkpoints
  rematch  = true
  data     = dataset.data
  points   = 11
}

# The aligned barriers, with intervals; report.unaligned adds the unaligned pairs.
report "trajectory" {
  title       = "Barriers along two training runs on ${var.dataset} (width ${var.width})"
  description = "Test-loss barrier between epoch t of run 1 and epoch t of run 2, under one permutation found at a given epoch and applied to every pair, and with each pair matched separately; mean and 95% confidence interval over ${var.replicates} pairs of runs."
  columns     = ["permutation", "epoch", "loss_barrier", "error_barrier"]
  table = concat(
    flatten([for k, m in local.permutations : [for p in interpolate.aligned[k].pairs : {
      permutation   = "found at epoch ${m.epoch}"
      epoch         = p.pair
      loss_barrier  = p.loss_barrier.test
      error_barrier = p.error_barrier.test
    }]]),
    flatten([for r, _ in local.pairs : [for p in interpolate.per_epoch[r].pairs : { permutation = "matched per epoch", epoch = p.pair, loss_barrier = p.loss_barrier.test, error_barrier = p.error_barrier.test }]]),
    flatten([for r, _ in local.pairs : [for p in interpolate.sequence[r].pairs : { permutation = "one for the sequence", epoch = p.pair, loss_barrier = p.loss_barrier.test, error_barrier = p.error_barrier.test }]]),
  )
  aggregate {
    by    = ["permutation", "epoch"]
    stats = ["n", "mean", "std", "ci"]
  }

  plot "barrier_vs_epoch" {
    title   = "Test-loss barrier between epoch t of both runs, one line per permutation (mean and 95% CI)"
    x       = "epoch"
    y       = ["loss_barrier"]
    y_label = "test-loss barrier"
    series  = "permutation"
  }
}

report "unaligned" {
  title = "Barriers along two training runs, with the unaligned pairs"
  table = concat(
    flatten([for k, m in local.permutations : [for p in interpolate.aligned[k].pairs : { permutation = "found at epoch ${m.epoch}", epoch = p.pair, loss_barrier = p.loss_barrier.test }]]),
    flatten([for r, _ in local.pairs : [for p in interpolate.unaligned[r].pairs : { permutation = "none", epoch = p.pair, loss_barrier = p.loss_barrier.test }]]),
  )
  aggregate {
    by    = ["permutation", "epoch"]
    stats = ["n", "mean", "ci"]
  }

  plot "with_unaligned" {
    title   = "The same with the unaligned pairs (mean and 95% CI)"
    x       = "epoch"
    y       = ["loss_barrier"]
    y_label = "test-loss barrier"
    series  = "permutation"
  }
}
