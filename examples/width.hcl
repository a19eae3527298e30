# Strong linear connectivity and width: for each width, three MLPs from different seeds,
# replicated (var.replicates triples per width: seeds 1-3, 4-6, 7-9). Networks 1 and 2 of a
# triple are aligned to network 0 (weight matching) and interpolated against each other
# ("via reference"), compared with aligning them to each other directly; the 2-simplex
# among the three gives the triangle barrier; fixed points measure how far the permutations
# are from transitive. The report gives each figure's mean over the triples with a 95%
# Student-t interval. The seed paper: barriers among three networks shrink as width grows.
#
# Budget: 63 trainings and 21 merges, about 7 minutes cold on 2 cores (-var replicates=1:
# a third of it).
#
#   modulo run examples/width.hcl
#   modulo export report.width -o width/

variable "dataset" {
  type        = string
  default     = "mnist"
  description = "mnist or fashion-mnist"
}

variable "widths" {
  type    = list(number)
  default = [16, 32, 64, 128, 256, 512, 1024]
}

variable "epochs" {
  type    = number
  default = 5
}

variable "replicates" {
  type        = number
  default     = 3
  description = "triples of networks per width"
}

locals {
  runs = { for p in setproduct(var.widths, range(1, 3 * var.replicates + 1)) : "w${p[0]}-s${p[1]}" => { width = p[0], seed = p[1] } }
  # One merge per width and replicate r, of the networks with seeds 3r+1, 3r+2, 3r+3.
  triples = { for p in setproduct(var.widths, range(var.replicates)) : "w${p[0]}-r${p[1]}" => { width = p[0], replicate = p[1], seeds = [3 * p[1] + 1, 3 * p[1] + 2, 3 * p[1] + 3] } }
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

merge_three "triangle" {
  for_each   = local.triples
  networks   = [for s in each.value.seeds : train.net["w${each.value.width}-s${s}"].final]
  data       = dataset.data
  resolution = 10
  points     = 11
}

report "width" {
  title       = "Three networks per width on ${var.dataset}"
  description = "MLPs with two hidden layers, ${var.replicates} triples of seeds per width, ${var.epochs} epochs; each figure is the mean over the triples with its 95% confidence interval (Student t). Test-loss barriers: between networks 1 and 2 after aligning both to network 0 (via reference) and after aligning 2 to 1 directly; the largest over the 2-simplex; and the fraction of units where the composed permutation agrees with the direct one."
  columns     = ["width", "accuracy", "via_reference", "direct", "triangle", "error_triangle", "fixed_points"]
  table = [for k, t in local.triples : {
    width          = t.width
    accuracy       = train.net["w${t.width}-s${t.seeds[0]}"].test_accuracy
    via_reference  = merge_three.triangle[k].via_reference_barrier.loss.test
    direct         = merge_three.triangle[k].direct_barrier.loss.test
    triangle       = merge_three.triangle[k].loss_barrier.test
    error_triangle = merge_three.triangle[k].error_barrier.test
    fixed_points   = merge_three.triangle[k].fixed_points
  }]
  aggregate {
    by    = ["width"]
    stats = ["n", "mean", "std", "ci"]
  }

  plot "barrier_vs_width" {
    title   = "Test-loss barriers among three networks against width (mean and 95% CI)"
    x       = "width"
    y       = ["via_reference", "direct", "triangle"]
    y_label = "test-loss barrier"
    log_x   = true
  }

  plot "fixed_points_vs_width" {
    title   = "Fixed points of the composed permutation against width (mean and 95% CI)"
    x       = "width"
    y       = ["fixed_points"]
    y_label = "fraction of units"
    log_x   = true
  }

  plot "triangle_widest" {
    title = "Test loss on the 2-simplex, width ${max(var.widths...)}, seeds 1-3"
    kind  = "triangle"
    table = merge_three.triangle["w${max(var.widths...)}-r0"].grid
    y     = ["test_loss"]
  }

  plot "triangle_narrowest" {
    title = "Test loss on the 2-simplex, width ${min(var.widths...)}, seeds 1-3"
    kind  = "triangle"
    table = merge_three.triangle["w${min(var.widths...)}-r0"].grid
    y     = ["test_loss"]
  }
}
