variable "bucket" {
  default = "s3://b"
}

cache {
  remote       = var.bucket             # ERROR: Cache settings must be literals
  read_only    = "sometimes"            # ERROR: Invalid cache setting
  trusted_keys = ["ed25519:notbase64"] # ERROR: Invalid trusted key
}

cache { # ERROR: Duplicate cache block
  remote = "/shared"
}

text "a" {
  value = "x"
}
