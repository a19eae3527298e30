# Weak linear connectivity: for each width, pairs of MLPs trained from different seeds
# (var.replicates pairs per width: seeds 1-2, 3-4, 5-6), and the barrier on the line
# between them before alignment and after aligning the second to the first by weight
# matching and by activation matching (each pair its own permutation). The report gives
# each figure's mean over the pairs with a 95% Student-t interval.
#
# Budget: 18 trainings, 6 matchings and 9 interpolations per width; about 1 minute cold on
# 2 cores.
#
#   modulo run examples/wlc.hcl
#   modulo export report.wlc -o wlc/

variable "dataset" {
  type        = string
  default     = "mnist"
  description = "mnist or fashion-mnist"
}

variable "widths" {
  type    = list(number)
  default = [32, 128, 512]
}

variable "epochs" {
  type    = number
  default = 5
}

variable "replicates" {
  type        = number
  default     = 3
  description = "pairs of networks per width"
}

locals {
  runs = { for p in setproduct(var.widths, range(1, 2 * var.replicates + 1)) : "w${p[0]}-s${p[1]}" => { width = p[0], seed = p[1] } }
  # Pair r of a width: the networks with seeds 2r+1 and 2r+2.
  pairs = { for p in setproduct(var.widths, range(var.replicates)) : "w${p[0]}-r${p[1]}" => { width = p[0], a = "w${p[0]}-s${2 * p[1] + 1}", b = "w${p[0]}-s${2 * p[1] + 2}" } }
}

dataset "data" {
  source = var.dataset
}

train "net" {
  for_each = local.runs

  data   = dataset.data
  seed   = each.value.seed
  epochs = var.epochs

  model {
    hidden = [each.value.width, each.value.width]
  }

  optimizer {
    lr           = 0.05
    momentum     = 0.9
    weight_decay = 1e-4
    warmup       = "100"
    schedule     = "cosine"
  }
}

match "weight" {
  for_each  = local.pairs
  reference = train.net[each.value.a].final
  target    = train.net[each.value.b].final
}

match "activation" {
  for_each  = local.pairs
  reference = train.net[each.value.a].final
  target    = train.net[each.value.b].final
  method    = "activation"
  data      = dataset.data
}

interpolate "unaligned" {
  for_each = local.pairs
  a        = train.net[each.value.a].final
  b        = train.net[each.value.b].final
  data     = dataset.data
}

interpolate "weight" {
  for_each = local.pairs
  a        = train.net[each.value.a].final
  b        = match.weight[each.key].aligned
  data     = dataset.data
}

interpolate "activation" {
  for_each = local.pairs
  a        = train.net[each.value.a].final
  b        = match.activation[each.key].aligned
  data     = dataset.data
}

report "wlc" {
  title       = "Weak linear connectivity on ${var.dataset}: barriers against width"
  description = "Pairs of MLPs (two hidden layers), ${var.replicates} pairs of seeds per width, ${var.epochs} epochs; each figure is the mean over the pairs with its 95% confidence interval (Student t). Test-loss and test-error barriers between the two networks of a pair, unaligned and after weight or activation matching."
  columns     = ["width", "accuracy", "unaligned", "weight", "activation", "error_unaligned", "error_weight", "error_activation"]
  table = [for k, p in local.pairs : {
    width            = p.width
    accuracy         = train.net[p.a].test_accuracy
    unaligned        = interpolate.unaligned[k].loss_barrier.test
    weight           = interpolate.weight[k].loss_barrier.test
    activation       = interpolate.activation[k].loss_barrier.test
    error_unaligned  = interpolate.unaligned[k].error_barrier.test
    error_weight     = interpolate.weight[k].error_barrier.test
    error_activation = interpolate.activation[k].error_barrier.test
  }]
  aggregate {
    by    = ["width"]
    stats = ["n", "mean", "std", "ci"]
  }

  plot "loss_barrier_vs_width" {
    title   = "Test-loss barrier against width (mean and 95% CI)"
    x       = "width"
    y       = ["unaligned", "weight", "activation"]
    y_label = "test-loss barrier"
    log_x   = true
  }

  plot "error_barrier_vs_width" {
    title   = "Test-error barrier against width (mean and 95% CI)"
    x       = "width"
    y       = ["error_unaligned", "error_weight", "error_activation"]
    y_label = "test-error barrier"
    log_x   = true
  }

  plot "curves" {
    title  = "Test loss along the line, widest networks, seeds 1 and 2"
    table  = concat([for r in interpolate.unaligned["w${max(var.widths...)}-r0"].curve : merge(r, { alignment = "unaligned" })], [for r in interpolate.weight["w${max(var.widths...)}-r0"].curve : merge(r, { alignment = "weight matching" })], [for r in interpolate.activation["w${max(var.widths...)}-r0"].curve : merge(r, { alignment = "activation matching" })])
    x      = "alpha"
    y      = ["test_loss"]
    series = "alignment"
  }
}
