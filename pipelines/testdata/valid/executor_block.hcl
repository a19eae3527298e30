# The executor block is inert on a local run; every setting at its most elaborate.
executor "slurm" {
  partition  = "cpu"
  account    = "lab"
  qos        = "normal"
  cpus       = 2
  mem        = "8G"
  gpus       = 1
  time       = "1-12:00:00"
  max_jobs   = 50
  retries    = 0
  extra_args = ["--constraint=avx512", "--exclusive"]
  modulo     = "/opt/modulo/bin/modulo"
  dir        = "slurm-logs"
  resources "text" {
    cpus = 4
    mem  = "512M"
    time = "90m"
  }
}

text "a" {
  value = "x"
}

text "big" {
  for_each = toset(["1", "2"])
  value    = each.key
  resources {
    cpus      = 8
    mem       = "32G"
    time      = "12h"
    gpus      = "a100:2"
    partition = "gpu"
  }
}
