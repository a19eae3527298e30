# PyTorch trains an MLP and a ResNet on modulo's datasets and saves them as files
# (TestPyTorchNetworkImport exports them beside p.hcl, which imports them).

dataset "syn" {
  source = "synthetic"
}

dataset "img" {
  source        = "stripes"
  examples      = 384
  test_examples = 1000
}

command "mlp" {
  run    = ["/usr/bin/python3", "train_export.py", "--model", "mlp", "--epochs", "3"]
  files  = ["train_export.py", "modulo_io.py", "torch_models.py", "safetensors_np.py"]
  inputs = { data = dataset.syn }
  output "pt" {
    type = "file"
    path = "net.pt"
  }
  output "st" {
    type = "file"
    path = "net.safetensors"
  }
  output "metrics" {
    type = "table"
    path = "metrics.json"
  }
}

command "resnet" {
  run    = ["/usr/bin/python3", "train_export.py", "--model", "resnet", "--epochs", "2"]
  files  = ["train_export.py", "modulo_io.py", "torch_models.py", "safetensors_np.py"]
  inputs = { data = dataset.img }
  output "pt" {
    type = "file"
    path = "net.pt"
  }
  output "metrics" {
    type = "table"
    path = "metrics.json"
  }
}
