# A provider-free example module: `tofu init` and `tofu apply` work offline.
variable "name" {
  description = "Who to greet."
  type        = string
  default     = "platform team"
}

locals {
  module_version = trimspace(file("${path.module}/VERSION"))
}

output "greeting" {
  description = "A greeting that names the module version that made it."
  value       = "Hello, ${var.name}, from terraform-null-greeting ${local.module_version}!"
}
