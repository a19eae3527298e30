# A block type that is nothing like a stage kind.
resource "aws_instance" "web" { # ERROR: Unknown block type
  ami = "abc"
}

text "a" {
  value = "hello"
}
