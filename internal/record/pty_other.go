//go:build unix && !linux

package record

import (
	"io"
	"os"
	"time"
)

// ptyRelay is Linux only: elsewhere the program writes to the terminal
// itself. Its methods do nothing on the nil relay newPTYRelay returns.
type ptyRelay struct{}

func newPTYRelay(func(*os.File, []byte), ...io.Writer) *ptyRelay { return nil }

func (r *ptyRelay) streams(stdout, stderr io.Writer) (io.Writer, io.Writer) {
	return stdout, stderr
}
func (r *ptyRelay) start()             {}
func (r *ptyRelay) resize()            {}
func (r *ptyRelay) wait(time.Duration) {}
