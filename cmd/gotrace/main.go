// Command gotrace records Go execution traces and reads them: the wire
// format generation by generation, and the answers a trace holds, for people
// at a terminal and for CI scripts.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], systemStreams())) }
