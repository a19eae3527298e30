# Networks trained elsewhere: a PyTorch script (pytorch/train_mlp.py, Debian's python3-torch)
# trains two MLPs on MNIST through command nodes; modulo aligns them to each other, measures
# the barriers before and after, and trains a third network of the same architecture itself
# to compare. On a cluster, the same pipeline with an executor "slurm" block (or
# -executor slurm) runs each command node as a Slurm job, on a GPU with resources { gpus = 1 }.
# About a minute on two cores.

variable "width" {
  type    = number
  default = 128
}

variable "epochs" {
  type    = number
  default = 2
}

variable "python" {
  type        = string
  default     = "/usr/bin/python3"
  description = "a Python with torch and numpy (Debian's, for python3-torch)"
}

dataset "mnist" {
  source = "mnist"
}

# One node per seed. The cache keys on run (so on seed, width and epochs), on the content of
# every file under pytorch/, and on the dataset: editing train_mlp.py reruns both nodes.
command "torch" {
  for_each = toset(["1", "2"])

  run = [var.python, "pytorch/train_mlp.py", "--seed", each.key,
  "--epochs", tostring(var.epochs), "--hidden", tostring(var.width), tostring(var.width)]
  files   = ["pytorch"]
  inputs  = { data = dataset.mnist }
  timeout = "30m"

  output "net" {
    type = "network"
    path = "net.safetensors"
    data = dataset.mnist
    model {
      kind   = "mlp"
      hidden = [var.width, var.width]
    }
  }

  output "metrics" {
    type = "table"
    path = "metrics.csv"
  }

  resources {
    cpus = 2
  }
}

# modulo's own training of the same architecture, for comparison.
train "modulo" {
  data   = dataset.mnist
  seed   = 3
  epochs = var.epochs
  model {
    hidden = [var.width, var.width]
  }
  optimizer {
    lr       = 0.05
    momentum = 0.9
  }
}

match "torch" {
  reference = command.torch["1"].net
  target    = command.torch["2"].net
}

match "modulo" {
  reference = train.modulo.final
  target    = command.torch["1"].net
}

interpolate "torch_before" {
  a    = command.torch["1"].net
  b    = command.torch["2"].net
  data = dataset.mnist
}

interpolate "torch_after" {
  a    = command.torch["1"].net
  b    = match.torch.aligned
  data = dataset.mnist
}

interpolate "modulo_after" {
  a    = train.modulo.final
  b    = match.modulo.aligned
  data = dataset.mnist
}

report "pytorch" {
  title   = "PyTorch-trained MLPs in modulo"
  columns = ["pair", "loss_barrier", "error_barrier", "accuracy_a", "accuracy_b"]
  table = [for pair, line in {
    "torch 1 – torch 2, none"            = interpolate.torch_before
    "torch 1 – torch 2, weight matching" = interpolate.torch_after
    "modulo – torch 1, weight matching"  = interpolate.modulo_after
    } : {
    pair          = pair
    loss_barrier  = line.loss_barrier.test
    error_barrier = line.error_barrier.test
    accuracy_a    = 1 - line.curve[0].test_error
    accuracy_b    = 1 - line.curve[length(line.curve) - 1].test_error
  }]
}

output "accuracy" {
  value = {
    for seed, run in command.torch : seed => {
      script = run.metrics[length(run.metrics) - 1].test_accuracy
      modulo = 1 - interpolate.torch_before.curve[seed == "1" ? 0 : length(interpolate.torch_before.curve) - 1].test_error
    }
  }
  description = "test accuracy of each PyTorch network as the script measured it and as modulo does"
}
