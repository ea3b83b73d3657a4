//go:build unix

package record

import (
	"path/filepath"
	"syscall"
	"testing"
)

// TestNotATraceFIFO: a named pipe is written, not opened to look at: an
// open for reading would wait for a writer.
func TestNotATraceFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	if err := notATrace(fifo); err != nil {
		t.Errorf("%s: %v, want it written", fifo, err)
	}
}
