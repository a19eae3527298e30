# REPAIR (Jordan et al., ICLR 2023) on the deep narrow MLP of the REPAIR paper's MNIST
# notebook: 784-128, six 128-128 hidden layers, 128-10, no norm, SGD lr 0.05 momentum 0.9,
# batch 1000, a triangular schedule (linear warm-up over 5 epochs, then linear decay).
# Two networks from different seeds are aligned by activation matching; their midpoint
# loses accuracy to "variance collapse", which REPAIR undoes by resetting each hidden
# channel's preactivation mean and std to the interpolation of the endpoints' (measured on
# 10,000 training examples, fused into the weights). The notebook: midpoint 71.68% test
# accuracy, 82.96% with REPAIR (endpoints 96.5-96.6%, 50 epochs).
#
# Replicated: var.replicates pairs of seeds (1-2, 3-4, 5-6); the report gives means with
# 95% Student-t intervals. Budget: 6 trainings of var.epochs epochs (20: about 4 minutes
# cold on 2 cores), 3 activation matchings and 6 interpolations.
#
#   modulo run examples/repair.hcl
#   modulo export report.repair -o repair/

variable "epochs" {
  type    = number
  default = 20
}

variable "replicates" {
  type    = number
  default = 3
}

locals {
  pairs = { for r in range(var.replicates) : tostring(r) => { a = tostring(2 * r + 1), b = tostring(2 * r + 2) } }
}

dataset "mnist" {
  source      = "mnist"
  standardize = true
}

train "net" {
  for_each = toset([for s in range(1, 2 * var.replicates + 1) : tostring(s)])

  data       = dataset.mnist
  seed       = tonumber(each.key)
  epochs     = var.epochs
  batch_size = 1000

  model {
    hidden = [128, 128, 128, 128, 128, 128, 128]
  }

  optimizer {
    lr       = 0.05
    momentum = 0.9
    warmup   = "5ep"
    schedule = "linear"
  }
}

match "activation" {
  for_each  = local.pairs
  method    = "activation"
  kernel    = "correlation"
  data      = dataset.mnist
  reference = train.net[each.value.a].final
  target    = train.net[each.value.b].final
}

interpolate "plain" {
  for_each = local.pairs
  a        = train.net[each.value.a].final
  b        = match.activation[each.key].aligned
  data     = dataset.mnist
  points   = 11
}

interpolate "repaired" {
  for_each = local.pairs
  a        = train.net[each.value.a].final
  b        = match.activation[each.key].aligned
  data     = dataset.mnist
  points   = 11
  repair   = true
}

report "repair" {
  title       = "REPAIR on a deep narrow MLP (MNIST)"
  description = "784-128x7-10, no norm, ${var.epochs} epochs, ${var.replicates} pairs of seeds aligned by activation matching; test accuracy at the midpoint (alpha = 0.5) and test-loss barrier, without and with REPAIR; mean and 95% confidence interval over the pairs."
  columns     = ["method", "midpoint_accuracy", "endpoint_accuracy", "loss_barrier", "error_barrier"]
  table = flatten([for k, _ in local.pairs : [for m, line in { "activation matching" = interpolate.plain[k], "activation matching + REPAIR" = interpolate.repaired[k] } : {
    method            = m
    midpoint_accuracy = 1 - line.curve[5].test_error
    endpoint_accuracy = 1 - line.curve[0].test_error
    loss_barrier      = line.loss_barrier.test
    error_barrier     = line.error_barrier.test
  }]])
  aggregate {
    by    = ["method"]
    stats = ["n", "mean", "std", "ci", "min", "max"]
  }

  plot "curves" {
    title  = "Test error along the line, seeds 1 and 2"
    table  = concat([for r in interpolate.plain["0"].curve : merge(r, { method = "activation matching" })], [for r in interpolate.repaired["0"].curve : merge(r, { method = "+ REPAIR" })])
    x      = "alpha"
    y      = ["test_error"]
    series = "method"
  }
}
