# text.b's sleep is known only once text.a has run, and is not a duration: the mistake is
# found while running, and text.b fails with a diagnostic.

text "a" {
  value = "x"
}

text "b" {
  value = "y"
  sleep = text.a.length > 0 ? "soon" : "0s"
}
