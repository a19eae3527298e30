# Strong linear connectivity and width: for each width, three MLPs from seeds 1, 2 and 3.
# Networks 1 and 2 are aligned to network 0 (weight matching) and interpolated against each
# other ("via reference"), compared with aligning them to each other directly; the
# 2-simplex among the three gives the triangle barrier; fixed points measure how far the
# permutations are from transitive. The seed paper: barriers among three networks shrink as
# width grows.
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

locals {
  runs = { for p in setproduct(var.widths, [1, 2, 3]) : "w${p[0]}-s${p[1]}" => { width = p[0], seed = p[1] } }
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
  for_each   = toset([for w in var.widths : tostring(w)])
  networks   = [train.net["w${each.key}-s1"].final, train.net["w${each.key}-s2"].final, train.net["w${each.key}-s3"].final]
  data       = dataset.data
  resolution = 10
  points     = 11
}

report "width" {
  title       = "Three networks per width on ${var.dataset}"
  description = "MLPs with two hidden layers, seeds 1-3, ${var.epochs} epochs. Test-loss barriers: between networks 1 and 2 after aligning both to network 0 (via reference) and after aligning 2 to 1 directly; the largest over the 2-simplex; and the fraction of units where the composed permutation agrees with the direct one."
  columns     = ["width", "accuracy", "via_reference", "direct", "triangle", "error_triangle", "fixed_points"]
  table = [for w in var.widths : {
    width          = w
    accuracy       = train.net["w${w}-s1"].test_accuracy
    via_reference  = merge_three.triangle[tostring(w)].via_reference_barrier.loss.test
    direct         = merge_three.triangle[tostring(w)].direct_barrier.loss.test
    triangle       = merge_three.triangle[tostring(w)].loss_barrier.test
    error_triangle = merge_three.triangle[tostring(w)].error_barrier.test
    fixed_points   = merge_three.triangle[tostring(w)].fixed_points
  }]

  plot "barrier_vs_width" {
    title   = "Test-loss barriers among three networks against width"
    x       = "width"
    y       = ["via_reference", "direct", "triangle"]
    y_label = "test-loss barrier"
    log_x   = true
  }

  plot "fixed_points_vs_width" {
    title   = "Fixed points of the composed permutation against width"
    x       = "width"
    y       = ["fixed_points"]
    y_label = "fraction of units"
    log_x   = true
  }

  plot "triangle_widest" {
    title = "Test loss on the 2-simplex, width ${max(var.widths...)}"
    kind  = "triangle"
    table = merge_three.triangle[tostring(max(var.widths...))].grid
    y     = ["test_loss"]
  }

  plot "triangle_narrowest" {
    title = "Test loss on the 2-simplex, width ${min(var.widths...)}"
    kind  = "triangle"
    table = merge_three.triangle[tostring(min(var.widths...))].grid
    y     = ["test_loss"]
  }
}
