# Networks PyTorch trained (gen.hcl), imported from their files, aligned to and
# interpolated with networks modulo trains. Each interpolation's a end is the imported
# network: 1 - curve[0].test_error is its test accuracy as modulo measures it.

dataset "syn" {
  source = "synthetic"
}

dataset "img" {
  source        = "stripes"
  examples      = 384
  test_examples = 1000
}

network "mlp_pt" {
  file = "nets/mlp.pt"
  data = dataset.syn
  model {
    hidden = [32]
  }
}

network "mlp_st" {
  file = "nets/mlp.safetensors"
  data = dataset.syn
  model {
    hidden = [32]
  }
}

network "resnet_pt" {
  file = "nets/resnet.pt"
  data = dataset.img
  model {
    kind  = "resnet"
    depth = 8
    width = 4
  }
}

train "mlp" {
  data   = dataset.syn
  seed   = 7
  epochs = 3
  model {
    hidden = [32]
  }
  optimizer {
    lr       = 0.05
    momentum = 0.9
  }
}

train "resnet" {
  data       = dataset.img
  seed       = 7
  epochs     = 2
  batch_size = 32
  model {
    kind  = "resnet"
    depth = 8
    width = 4
  }
  optimizer {
    kind = "adam"
    lr   = 0.003
  }
}

match "mlp" {
  reference = network.mlp_pt
  target    = train.mlp.final
}

match "resnet" {
  reference = network.resnet_pt
  target    = train.resnet.final
}

interpolate "mlp_pt" {
  a      = network.mlp_pt
  b      = match.mlp.aligned
  data   = dataset.syn
  points = 5
}

interpolate "mlp_st" {
  a      = network.mlp_st
  b      = train.mlp.final
  data   = dataset.syn
  points = 2
}

interpolate "resnet_pt" {
  a      = network.resnet_pt
  b      = match.resnet.aligned
  data   = dataset.img
  points = 5
}
