# Strong linear connectivity among N networks: for each width, N MLPs from seeds 1 … N are
# brought into one frame (merge_many: network 0 fixes it, the others are weight-matched to
# it and then, round by round, to the mean of the others), and the barriers measured
# between every pair, over the simplex they span (its centre and 64 uniform samples), and
# the merged network's accuracy. For N = 3 merge_three's via-reference barrier is beside
# it. The networks are width.hcl's (same recipe and seeds), so a cache that ran width.hcl
# trains nothing here.
#
# Budget: 56 trainings (7 widths, seeds 1-8; all cached after width.hcl) and 21 merges,
# about 10 minutes with the networks cached and 15 cold on 2 cores; -var
# 'widths=[16,64,256]' takes about 4. One set of seeds per point, no spread.
#
#   modulo run examples/merge_many.hcl
#   modulo export report.merge_many -o merge_many/

variable "dataset" {
  type        = string
  default     = "mnist"
  description = "mnist or fashion-mnist"
}

variable "widths" {
  type    = list(number)
  default = [16, 32, 64, 128, 256, 512, 1024]
}

variable "ns" {
  type        = list(number)
  default     = [3, 5, 8]
  description = "how many networks are merged"
}

variable "epochs" {
  type    = number
  default = 5
}

locals {
  runs   = { for p in setproduct(var.widths, range(1, max(var.ns...) + 1)) : "w${p[0]}-s${p[1]}" => { width = p[0], seed = p[1] } }
  merges = { for p in setproduct(var.widths, var.ns) : "w${p[0]}-n${p[1]}" => { width = p[0], n = p[1] } }
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

merge_many "all" {
  for_each = local.merges
  networks = [for s in range(1, each.value.n + 1) : train.net["w${each.value.width}-s${s}"].final]
  data     = dataset.data
}

merge_three "three" {
  for_each   = toset([for w in var.widths : tostring(w)])
  networks   = [for s in [1, 2, 3] : train.net["w${each.key}-s${s}"].final]
  data       = dataset.data
  resolution = 10
  points     = 11
}

report "merge_many" {
  title       = "N networks in one frame on ${var.dataset}: barriers against width and N"
  description = "MLPs with two hidden layers, seeds 1 to N, ${var.epochs} epochs. simplex: the largest test-loss barrier over the simplex of the N aligned networks (its centre and 64 samples); worst_pair: the largest test-loss barrier between two of them; merged_accuracy: the test accuracy of their mean; via_reference (N = 3): merge_three's barrier between networks 1 and 2 aligned to network 0."
  columns     = ["width", "n", "simplex", "worst_pair", "merged_accuracy", "via_reference"]
  # In the order of the widths, so that the plots' lines run along x.
  table = [for p in setproduct(var.widths, var.ns) : {
    width           = p[0]
    n               = p[1]
    simplex         = merge_many.all["w${p[0]}-n${p[1]}"].loss_barrier.test
    worst_pair      = merge_many.all["w${p[0]}-n${p[1]}"].pair_barrier.loss.test
    merged_accuracy = merge_many.all["w${p[0]}-n${p[1]}"].merged_accuracy
    via_reference   = p[1] == 3 ? merge_three.three[tostring(p[0])].via_reference_barrier.loss.test : null
  }]

  plot "simplex_barrier" {
    title   = "Largest test-loss barrier over the simplex of N aligned networks"
    x       = "width"
    y       = ["simplex"]
    series  = "n"
    y_label = "test-loss barrier"
    log_x   = true
  }

  plot "merged_accuracy" {
    title   = "Test accuracy of the merged network (the mean of the N aligned networks)"
    x       = "width"
    y       = ["merged_accuracy"]
    series  = "n"
    y_label = "test accuracy"
    log_x   = true
  }
}
