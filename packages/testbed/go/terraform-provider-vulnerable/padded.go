//go:build padded

// Built with -tags padded (build-scan-fixture.sh provider … <padding MiB>): the executable embeds
// padding.bin, generated random bytes, so that it is as big as a real provider (tens of MB that a
// scanner must read whole) while its module info stays the same.
package main

import _ "embed"

//go:embed padding.bin
var padding []byte

// paddingSize is set at start-up: the reference keeps the padding in the linked executable.
var paddingSize int

func init() { paddingSize = len(padding) }
