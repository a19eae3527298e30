variable "part" {
  default = "cpu"
}

executor "slurm" {
  partition  = var.part # ERROR: Executor settings must be literals
  cpus       = 1.5 # ERROR: Invalid executor setting
  mem        = "lots" # ERROR: Invalid executor setting
  time       = "3 days" # ERROR: Invalid executor setting
  max_jobs   = 0 # ERROR: Invalid executor setting
  retries    = -1 # ERROR: Invalid executor setting
  extra_args = "--exclusive" # ERROR: Invalid executor setting
  gpus       = "all" # ERROR: Invalid executor setting
  resources "trian" { # ERROR: Unknown stage kind
    cpus = 2
  }
  resources "text" {
    time = "1h"
  }
  resources "text" { # ERROR: Duplicate resources block
    time = "2h"
  }
}

executor "slurm" { # ERROR: Duplicate executor block
}

executor "pbs" { # ERROR: Unknown executor
}

text "a" {
  value = "x"
}

text "b" {
  for_each = toset(["1", "2"])
  value    = each.key
  resources {
    cpus = each.key # ERROR: Executor settings must be literals
    mem  = "4X" # ERROR: Invalid executor setting
    gpus = 0 # ERROR: Invalid executor setting
  }
  resources { # ERROR: Duplicate resources block
  }
}
