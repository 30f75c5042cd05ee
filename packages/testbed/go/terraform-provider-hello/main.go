// terraform-provider-hello: the quickstart's example provider, small and real. It has one data
// source, hello_greeting, that greets a name, so a new user's first `tofu apply` through
// OpenDepot exercises a provider end to end (install, signature check, schema, plan, apply).
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
)

// version is stamped at build time (-ldflags "-X main.version=1.1.0").
var version = "dev"

func main() {
	debug := flag.Bool("debug", false, "run with support for debuggers like delve")
	flag.Parse()
	err := providerserver.Serve(context.Background(), New(version), providerserver.ServeOpts{
		Address:         "registry.opentofu.org/hashicorp/hello",
		Debug:           *debug,
		ProtocolVersion: 5,
	})
	if err != nil {
		log.Fatal(err)
	}
}
