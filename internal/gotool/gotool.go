// Package gotool runs the Go distribution's trace tool for tests that
// check gotrace against it. The go command finds (and builds, the first
// time) the tool on every "go tool trace", which costs a tenth of a
// second a call; the tool's own binary, asked for once, starts at once.
package gotool

import (
	"os/exec"
	"strings"
	"sync"
)

// traceBinary is the path of go tool trace's binary, or "" when the go
// command cannot say (the tool is then run through it).
var traceBinary = sync.OnceValue(func() string {
	out, err := exec.Command("go", "tool", "-n", "trace").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
})

// Trace returns the command that runs go tool trace with args.
func Trace(args ...string) *exec.Cmd {
	if bin := traceBinary(); bin != "" {
		return exec.Command(bin, args...)
	}
	return exec.Command("go", append([]string{"tool", "trace"}, args...)...)
}
