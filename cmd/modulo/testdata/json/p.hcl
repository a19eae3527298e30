# The pipeline of the JSON documents' golden tests (json_test.go): text nodes, one with a
# for_each, a concat of two of them, a command whose output is a table, and outputs.

variable "fail" {
  type    = string
  default = ""
}

text "a" {
  value = "hello big world"
  fail  = var.fail
}

text "k" {
  for_each = toset(["x", "y"])
  value    = "key ${each.key}"
}

concat "c" {
  parts = [text.a.out, text.k["x"].out]
  sep   = " & "
}

command "table" {
  run = ["sh", "-c", "printf 'seed,acc,name\\n1,0.5,s1\\n2,nan,two\\n' > stats.csv"]
  output "stats" {
    type = "table"
    path = "stats.csv"
  }
}

output "length" {
  value       = concat.c.length
  description = "characters in the joined text"
}

output "words" {
  value = text.a.words
}

output "stats" {
  value = command.table.stats
}
