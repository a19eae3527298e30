dataset "e" {
  source = "cifar10" # ERROR: Invalid dataset configuration | source "cifar10" needs path
}
