# Learned matching (Git Re-Basin's straight-through estimator, match method = "ste") against
# weight matching, on the networks of quickstart.hcl (width 128, 3 epochs) and of wlc.hcl
# (widths 32, 128, 512, 5 epochs, seeds 1 and 2; same recipes, so their caches are
# reused): the test-loss barrier after each, and what learned matching costs.
#
# Budget: 8 trainings (if not cached), 4 weight matchings, 4 learned matchings of 1 epoch
# and 8 interpolations; a few minutes on 2 cores.
#
#   modulo run examples/ste.hcl
#   modulo export report.ste -o ste/

locals {
  # The quickstart's networks and wlc.hcl's first pair of each width.
  nets = {
    "quickstart-1" = { width = 128, epochs = 3, seed = 1, wlc = false }
    "quickstart-2" = { width = 128, epochs = 3, seed = 2, wlc = false }
    "w32-s1"       = { width = 32, epochs = 5, seed = 1, wlc = true }
    "w32-s2"       = { width = 32, epochs = 5, seed = 2, wlc = true }
    "w128-s1"      = { width = 128, epochs = 5, seed = 1, wlc = true }
    "w128-s2"      = { width = 128, epochs = 5, seed = 2, wlc = true }
    "w512-s1"      = { width = 512, epochs = 5, seed = 1, wlc = true }
    "w512-s2"      = { width = 512, epochs = 5, seed = 2, wlc = true }
  }
  pairs = {
    "quickstart" = { a = "quickstart-1", b = "quickstart-2", width = 128 }
    "wlc-32"     = { a = "w32-s1", b = "w32-s2", width = 32 }
    "wlc-128"    = { a = "w128-s1", b = "w128-s2", width = 128 }
    "wlc-512"    = { a = "w512-s1", b = "w512-s2", width = 512 }
  }
}

dataset "mnist" {
  source = "mnist"
}

train "net" {
  for_each = local.nets

  data   = dataset.mnist
  seed   = each.value.seed
  epochs = each.value.epochs
  model {
    hidden = [each.value.width, each.value.width]
  }
  # The recipes of quickstart.hcl and wlc.hcl, byte for byte.
  batch_size = 128
  optimizer {
    kind         = "sgd"
    lr           = 0.05
    momentum     = 0.9
    weight_decay = 1e-4
    warmup       = "100"
    schedule     = "cosine"
  }
  checkpoints = each.value.wlc ? [] : ["0ep", "1ep", "3ep"]
}

match "weight" {
  for_each  = local.pairs
  reference = train.net[each.value.a].final
  target    = train.net[each.value.b].final
}

match "ste" {
  for_each  = local.pairs
  method    = "ste"
  data      = dataset.mnist
  reference = train.net[each.value.a].final
  target    = train.net[each.value.b].final
}

interpolate "weight" {
  for_each = local.pairs
  a        = train.net[each.value.a].final
  b        = match.weight[each.key].aligned
  data     = dataset.mnist
}

interpolate "ste" {
  for_each = local.pairs
  a        = train.net[each.value.a].final
  b        = match.ste[each.key].aligned
  data     = dataset.mnist
}

report "ste" {
  title       = "Learned matching (STE) against weight matching"
  description = "Test-loss and test-error barriers after aligning the second network of each pair by weight matching or by learned matching (1 epoch, Adam 1e-3, batch 256, the best of the epoch's permutation and weight matching's by midpoint loss on 10,000 training images)."
  columns     = ["pair", "width", "weight_loss_barrier", "ste_loss_barrier", "weight_error_barrier", "ste_error_barrier"]
  table = [for k in ["quickstart", "wlc-32", "wlc-128", "wlc-512"] : {
    pair                 = k
    width                = local.pairs[k].width
    weight_loss_barrier  = interpolate.weight[k].loss_barrier.test
    ste_loss_barrier     = interpolate.ste[k].loss_barrier.test
    weight_error_barrier = interpolate.weight[k].error_barrier.test
    ste_error_barrier    = interpolate.ste[k].error_barrier.test
  }]
}
