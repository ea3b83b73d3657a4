package main

import "flag"

// updateGolden rewrites golden files and script expectations from the
// current output: go test ./cmd/gotrace -update.
var updateGolden = flag.Bool("update", false, "rewrite golden files")
