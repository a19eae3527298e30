# A small chain: two texts, one of them per key, joined twice.
variable "sep" {
  type    = string
  default = "-"
}

text "a" {
  value = "hello world"
}

text "b" {
  for_each = toset(["x", "y"])
  value    = "b ${each.key}"
  salt     = var.sep == "+" ? "" : "s"
}

concat "c" {
  parts = [text.a.out, text.b["x"].out]
  sep   = var.sep
}

concat "d" {
  parts = [for k, v in text.b : v.out]
}

concat "e" {
  parts = concat(text.a.words, [concat.d.out])
}
