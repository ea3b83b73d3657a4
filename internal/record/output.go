package record

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// outputFile is a trace being written: a temporary file next to its
// destination, renamed into place once complete, so the destination never
// holds half a trace and a failed recording leaves nothing behind.
//
// N.B. A destination that exists and is not a regular file (/dev/null, a
// named pipe) is written in place: renaming a file over it would replace
// the device or the pipe, and there is nothing to cut back.
type outputFile struct {
	dest    string
	f       *os.File
	n       int64
	inPlace bool
}

// ErrNotRegular says a trace went to a device or a pipe (-o /dev/null),
// which cannot be read back or cut to its complete generations.
var ErrNotRegular = errors.New("not a regular file")

// special reports whether dest exists and is not a regular file or a
// directory: a device or a pipe, written in place.
func special(dest string) bool {
	fi, err := os.Stat(dest)
	return err == nil && !fi.Mode().IsRegular() && !fi.IsDir()
}

// checkOutput finds out, before anything runs, whether a trace can be
// written to dest; it leaves nothing behind, and opens no device or pipe (a
// reader at the other end of a pipe would see its end).
func checkOutput(dest string) error {
	if special(dest) {
		return nil
	}
	o, err := createOutput(dest)
	if err != nil {
		return err
	}
	o.abort()
	return nil
}

func createOutput(dest string) (*outputFile, error) {
	if special(dest) {
		f, err := os.OpenFile(dest, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return &outputFile{dest: dest, f: f, inPlace: true}, nil
	}
	dir, base := filepath.Split(dest)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, err
	}
	return &outputFile{dest: dest, f: f}, nil
}

func (o *outputFile) Write(p []byte) (int, error) {
	n, err := o.f.Write(p)
	o.n += int64(n)
	return n, err
}

// commit makes the trace visible under its name.
func (o *outputFile) commit() error {
	if o.inPlace {
		return o.f.Close()
	}
	if err := o.f.Chmod(0o644); err != nil {
		o.abort()
		return err
	}
	if err := o.f.Close(); err != nil {
		os.Remove(o.f.Name())
		return err
	}
	if err := os.Rename(o.f.Name(), o.dest); err != nil {
		os.Remove(o.f.Name())
		return err
	}
	return nil
}

// abort removes the temporary file.
func (o *outputFile) abort() {
	o.f.Close()
	if !o.inPlace {
		os.Remove(o.f.Name())
	}
}

// errNothingComplete says a stream that was cut short held no complete
// generation, so there is nothing worth keeping.
var errNothingComplete = errors.New("no generation was complete when the stream ended")

// salvage cuts a stream that ended without the tracer being stopped back to
// its last complete generation, and commits it. It returns the size kept
// and the number of complete generations.
//
// 1. Decode generation by generation until the end or the first damage.
// 2. The runtime writes every batch of a generation before any batch of the
// next, so a generation followed by another one is complete. The last one
// decoded is complete only if it carries its end-of-generation marker
// (Go 1.26+); otherwise the program died while it was being written.
// 3. Truncate after the last complete generation.
func (o *outputFile) salvage() (int64, int, error) {
	if o.inPlace {
		o.f.Close()
		return 0, 0, ErrNotRegular
	}
	if _, err := o.f.Seek(0, io.SeekStart); err != nil {
		o.abort()
		return 0, 0, err
	}
	keep, gens, err := completePrefix(o.f)
	if err != nil {
		o.abort()
		return 0, 0, err
	}
	if err := o.f.Truncate(keep); err != nil {
		o.abort()
		return 0, 0, err
	}
	o.n = keep
	return keep, gens, o.commit()
}

// completePrefix returns how many bytes of the trace r hold complete
// generations, and how many those are; see salvage.
func completePrefix(r io.Reader) (int64, int, error) {
	rd, err := decode.NewReader(r)
	if err != nil {
		return 0, 0, errNothingComplete
	}
	rd.SetDetail(decode.Counts)
	// N.B. The reader reuses its Generation, so keep offsets, not pointers.
	var complete, last int64 // ends of the last two generations, 0 for none
	n := 0                   // generations decoded
	lastMarked, clean := false, false
	for {
		g, err := rd.Next()
		if err == io.EOF {
			clean = true
			break
		}
		if err != nil {
			break
		}
		n++
		complete, last = last, g.End
		lastMarked = g.Counts[format.EvEndOfGeneration].Events > 0
	}
	if last != 0 && (!clean || lastMarked) {
		complete = last
	} else {
		n--
	}
	if complete == 0 {
		return 0, 0, errNothingComplete
	}
	return complete, n, nil
}

// describeCut is what gotrace says about a salvaged trace: that it was cut,
// where, and what was lost.
func describeCut(path string, kept int64, gens int, received int64) string {
	plural := "s"
	if gens == 1 {
		plural = ""
	}
	return fmt.Sprintf("the trace was cut short: the program ended without stopping the tracer; %s keeps %d complete generation%s, up to byte 0x%x; the last %d of %d bytes received are dropped",
		path, gens, plural, kept, received-kept, received)
}
