cache {
  remote       = "s3://team/modulo?endpoint=http://127.0.0.1:7070"
  read_only    = true
  signing_key  = "keys/me.key"
  trusted_keys = ["ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="]
}

text "a" {
  value = "x"
}
