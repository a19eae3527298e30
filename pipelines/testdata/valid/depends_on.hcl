text "setup" {
  value = "setup"
  sleep = "10ms"
}

text "models" {
  for_each = {
    small = { words = "a b", threads = 1 }
    large = { words = "a b c d", threads = 2 }
  }
  value      = each.value.words
  threads    = each.value.threads
  depends_on = [text.setup]
}

concat "report" {
  parts      = [text.models["small"].out, text.models["large"].out]
  sep        = "\n"
  depends_on = [text.models, text.setup]
}

text "summary" {
  value      = "${text.models["large"].length} bytes"
  depends_on = [text.models["small"]]
}
