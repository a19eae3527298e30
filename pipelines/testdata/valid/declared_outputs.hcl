# A kind whose blocks declare their own outputs (as command does): references to them are
# checked and typed like any other output.
emit "e" {
  out "greeting" {
    kind  = "text"
    value = "hello"
  }
  out "n" {
    kind  = "number"
    value = "3"
  }
}

concat "c" {
  parts = [emit.e.greeting]
  sep   = emit.e.n > 2 ? "big" : "small"
}
