# Weak linear connectivity: for each width, two MLPs trained from different seeds, and the
# barrier on the line between them before alignment and after aligning the second to the
# first by weight matching and by activation matching (each pair its own permutation).
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

locals {
  runs = { for p in setproduct(var.widths, [1, 2]) : "w${p[0]}-s${p[1]}" => { width = p[0], seed = p[1] } }
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
  for_each  = toset([for w in var.widths : tostring(w)])
  reference = train.net["w${each.key}-s1"].final
  target    = train.net["w${each.key}-s2"].final
}

match "activation" {
  for_each  = toset([for w in var.widths : tostring(w)])
  reference = train.net["w${each.key}-s1"].final
  target    = train.net["w${each.key}-s2"].final
  method    = "activation"
  data      = dataset.data
}

interpolate "unaligned" {
  for_each = toset([for w in var.widths : tostring(w)])
  a        = train.net["w${each.key}-s1"].final
  b        = train.net["w${each.key}-s2"].final
  data     = dataset.data
}

interpolate "weight" {
  for_each = toset([for w in var.widths : tostring(w)])
  a        = train.net["w${each.key}-s1"].final
  b        = match.weight[each.key].aligned
  data     = dataset.data
}

interpolate "activation" {
  for_each = toset([for w in var.widths : tostring(w)])
  a        = train.net["w${each.key}-s1"].final
  b        = match.activation[each.key].aligned
  data     = dataset.data
}

report "wlc" {
  title       = "Weak linear connectivity on ${var.dataset}: barriers against width"
  description = "Two MLPs (two hidden layers) per width, seeds 1 and 2, ${var.epochs} epochs. Test-loss and test-error barriers between them, unaligned and after weight or activation matching."
  columns     = ["width", "accuracy", "unaligned", "weight", "activation", "error_unaligned", "error_weight", "error_activation"]
  table = [for w in var.widths : {
    width            = w
    accuracy         = train.net["w${w}-s1"].test_accuracy
    unaligned        = interpolate.unaligned[tostring(w)].loss_barrier.test
    weight           = interpolate.weight[tostring(w)].loss_barrier.test
    activation       = interpolate.activation[tostring(w)].loss_barrier.test
    error_unaligned  = interpolate.unaligned[tostring(w)].error_barrier.test
    error_weight     = interpolate.weight[tostring(w)].error_barrier.test
    error_activation = interpolate.activation[tostring(w)].error_barrier.test
  }]

  plot "loss_barrier_vs_width" {
    title   = "Test-loss barrier against width"
    x       = "width"
    y       = ["unaligned", "weight", "activation"]
    y_label = "test-loss barrier"
    log_x   = true
  }

  plot "error_barrier_vs_width" {
    title   = "Test-error barrier against width"
    x       = "width"
    y       = ["error_unaligned", "error_weight", "error_activation"]
    y_label = "test-error barrier"
    log_x   = true
  }

  plot "curves" {
    title  = "Test loss along the line, widest networks"
    table  = concat([for r in interpolate.unaligned[tostring(max(var.widths...))].curve : merge(r, { alignment = "unaligned" })], [for r in interpolate.weight[tostring(max(var.widths...))].curve : merge(r, { alignment = "weight matching" })], [for r in interpolate.activation[tostring(max(var.widths...))].curve : merge(r, { alignment = "activation matching" })])
    x      = "alpha"
    y      = ["test_loss"]
    series = "alignment"
  }
}
