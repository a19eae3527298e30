# Three networks and width, for ResNet-20 with LayerNorm (open_lth's cifar_resnet_20_W): for
# each width, three networks from seeds 1, 2 and 3. Networks 1 and 2 are aligned to network 0
# by weight matching and interpolated against each other ("via reference"), compared with
# aligning them to each other directly; the 2-simplex among the three gives the triangle
# barrier; fixed points measure how far the permutations are from transitive. The seed's
# claim, made on this network: the via-reference barrier falls with width and stays above
# the direct one, and fixed points fall.
#
# Subsets, so that it runs cold in under 30 minutes on 2 cores: 30,000 MNIST training
# images (28×28, no padding: ResNet's stride-2 stages take 28 → 14 → 7), 2 epochs, and the
# barriers measured on 2,000 training and 2,000 test images. The seed trains CIFAR-10 for
# 160 epochs at widths up to 64×; raise the variables to approach that.
#
# One triple of networks per width, no spread: three replicates would take about 90
# minutes, beyond an example's budget; replicate with for_each over seeds as wlc.hcl and
# width.hcl do.
#
#   modulo run examples/resnet_width.hcl
#   modulo export report.resnet_width -o resnet_width/

variable "dataset" {
  type        = string
  default     = "mnist"
  description = "mnist, fashion-mnist, or an image dataset of your own (see the dataset block)"
}

variable "widths" {
  type        = list(number)
  default     = [2, 4, 8, 16]
  description = "open_lth's W: the channels of the first stage (16 is ResNet-20's own)"
}

variable "epochs" {
  type    = number
  default = 2
}

variable "train_subset" {
  type    = number
  default = 30000
}

locals {
  runs = { for p in setproduct(var.widths, [1, 2, 3]) : "w${p[0]}-s${p[1]}" => { width = p[0], seed = p[1] } }
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

train "net" {
  for_each = local.runs

  data                = dataset.data
  seed                = each.value.seed
  epochs              = var.epochs
  init                = "kaiming_normal"
  eval_train_examples = 2000

  model {
    kind  = "resnet"
    depth = 20
    width = each.value.width
  }

  # Adam, not open_lth's SGD: with SGD and momentum 0.9 (lr 0.003 to 0.1, with or without
  # warmup) ResNet-20 with LayerNorm stays on the uniform plateau (test loss 2.30) for the few
  # hundred steps this budget allows on MNIST, in PyTorch as in modulo; Adam leaves it in
  # the first epoch (at width 8, 237 steps: 88.5% test accuracy at 3e-3, 83% at 1e-3).
  optimizer {
    kind     = "adam"
    lr       = 0.003
    schedule = "cosine"
  }
}

merge_three "triangle" {
  for_each   = toset([for w in var.widths : tostring(w)])
  networks   = [train.net["w${each.key}-s1"].final, train.net["w${each.key}-s2"].final, train.net["w${each.key}-s3"].final]
  data       = dataset.eval
  resolution = 4
  points     = 9
}

report "resnet_width" {
  title       = "Three ResNet-20s per width on ${var.dataset}"
  description = "ResNet-20 with LayerNorm, seeds 1-3, ${var.epochs} epochs on ${var.train_subset} training images. Test-loss barriers (2,000 test images): between networks 1 and 2 after aligning both to network 0 (via reference) and after aligning 2 to 1 directly; the largest over the 2-simplex; and the fraction of channels where the composed permutation agrees with the direct one."
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
    title   = "Test-loss barriers among three ResNet-20s against width"
    x       = "width"
    y       = ["via_reference", "direct", "triangle"]
    y_label = "test-loss barrier"
    log_x   = true
  }

  plot "fixed_points_vs_width" {
    title   = "Fixed points of the composed permutation against width"
    x       = "width"
    y       = ["fixed_points"]
    y_label = "fraction of channels"
    log_x   = true
  }

  plot "triangle_widest" {
    title = "Test loss on the 2-simplex, width ${max(var.widths...)}"
    kind  = "triangle"
    table = merge_three.triangle[tostring(max(var.widths...))].grid
    y     = ["test_loss"]
  }
}
