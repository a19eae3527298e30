# Several mistakes in one block: each is reported, in a stable order.
text "a" {
  value   = "hello"
  colour  = "red" # ERROR: Unsupported argument
  size    = 3 # ERROR: Unsupported argument
  thread  = 2 # ERROR: Unsupported argument
  weight  = 1 # ERROR: Unsupported argument
  flavour = "x" # ERROR: Unsupported argument
}
