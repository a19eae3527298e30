variable "widths" {
  type        = list(number)
  default     = [64, 128]
  description = "Hidden layer widths."

  validation {
    condition     = length([for w in var.widths : w if w % 8 != 0]) == 0
    error_message = "Every width must be a multiple of 8."
  }
}

variable "opts" {
  type = object({
    upper = optional(bool, false)
    label = optional(string, "net")
  })
  default = {}
}

locals {
  keys    = toset([for w in var.widths : tostring(w)])
  label   = "${local.prefix}-${var.opts.label}"
  prefix  = upper("run")
  first   = element(sort(tolist(local.keys)), 0)
  threads = max(1, length(var.widths))
}

text "w" {
  for_each = local.keys
  value    = "${local.label} w${each.key}"
  upper    = var.opts.upper
  threads  = local.threads
}

text "pick" {
  value = "first is ${try(tostring(text.w[local.first].length), "?")}"
}

concat "all" {
  parts = [for k in sort(tolist(local.keys)) : text.w[k].out]
  sep   = can(regex("^[0-9]+$", local.first)) ? "," : ";"
}
