# "colour" is close to no argument of text.
text "a" {
  value  = "hello"
  colour = "red" # ERROR: Unsupported argument
}
