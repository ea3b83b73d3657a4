//go:build unix && !linux

package record

import "io"

// terminal hands the terminal to a program that reads it on Linux only;
// elsewhere such a program is stopped by the terminal until interrupted.
type terminal struct{}

func foregroundTerminal(io.Reader) *terminal     { return nil }
func (t *terminal) watch(pid int, handed func()) {}
func (t *terminal) restore() bool                { return false }
func (t *terminal) isHanded() bool               { return false }
