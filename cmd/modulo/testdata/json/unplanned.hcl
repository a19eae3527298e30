# file.f reads a file that is not there: planning it fails, and concat.c waits for it.

file "f" {
  path = "missing.txt"
}

text "t" {
  value = "planned"
}

concat "c" {
  parts = [file.f, text.t.out]
}
