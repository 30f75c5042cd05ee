// Command terraform-provider-vulnerable is a stand-in provider executable for scanner tests: it
// links golang.org/x/text, whose version (v0.3.7, affected by CVE-2022-32149, or a fixed one) is
// chosen at build time, so its embedded module info is what a vulnerability scanner reads.
package main

import (
	"fmt"

	"golang.org/x/text/language"
)

var version = "dev"

func main() {
	fmt.Println("terraform-provider-vulnerable", version, language.English)
}
