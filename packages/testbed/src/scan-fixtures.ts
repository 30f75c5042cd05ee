/** Module sources with known scan results, for the scanner tests. */

/**
 * A security group that lets SSH in from the whole internet: trivy 0.74's configuration checks
 * report it as AWS-0107 (HIGH), its only finding.
 */
export const INSECURE_MODULE_TF = `resource "aws_security_group" "ssh" {
  name        = "ssh"
  description = "ssh from anywhere"

  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
`;

/** A module trivy finds nothing in. */
export const CLEAN_MODULE_TF = `variable "name" {
  type    = string
  default = "world"
}

output "greeting" {
  value = "hello \${var.name}"
}
`;
