//go:build !unix

package record

import (
	"errors"
	"os"
)

// Signals are the signals a caller should relay to Run.
func Signals() []os.Signal { return []os.Signal{os.Interrupt} }

// Interrupts are the signals that cancel a build or a --url capture.
func Interrupts() []os.Signal { return []os.Signal{os.Interrupt} }

// Run needs process groups, inherited pipes and Unix signals.
func (b *Binary) Run(opts RunOptions) (*Result, error) {
	return nil, errors.New("gotrace record runs programs on Unix systems only; --url works everywhere")
}
