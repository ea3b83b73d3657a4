package record

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/outfile"
)

// outputFile is a trace being written: the destination never holds half a
// trace and a failed recording leaves nothing behind (see outfile), and a
// trace cut short can be cut back to its complete generations.
type outputFile struct{ *outfile.File }

// createOutput opens dest for the trace, refusing to write over a file
// that is there and is not a trace (the program's source, say), as go
// build refuses to write over what is not a binary.
func createOutput(dest string) (*outputFile, error) {
	if err := notATrace(dest); err != nil {
		return nil, err
	}
	f, err := outfile.Create(dest)
	if err != nil {
		return nil, err
	}
	return &outputFile{f}, nil
}

// notATrace says why dest, a regular file that is there, is not to be
// written over: it holds something, and not a Go execution trace. An
// empty file, one that is not there, a device or a pipe are written.
func notATrace(dest string) error {
	// N.B. Stat before opening: opening a named pipe waits for a writer.
	if fi, err := os.Stat(dest); err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return nil // not there, or unreadable: writing it says what is wrong
	}
	f, err := os.Open(dest)
	if err != nil {
		return nil
	}
	defer f.Close()
	hdr := make([]byte, format.HeaderSize)
	n, _ := io.ReadFull(f, hdr)
	if _, err := format.ParseHeader(hdr[:n]); err == nil {
		return nil
	}
	return fmt.Errorf("%s is there and is not a Go execution trace: write the trace elsewhere (-o), or remove it first", dest)
}

// ErrNotRegular says a trace went to a device or a pipe (-o /dev/null),
// which cannot be read back or cut to its complete generations.
var ErrNotRegular = errors.New("not a regular file")

// errNothingComplete says a stream that was cut short held no complete
// generation, so there is nothing worth keeping.
var errNothingComplete = errors.New("no generation was complete when the stream ended")

// salvage cuts a stream that ended without the tracer being stopped back to
// its last complete generation, and commits it. It returns the size kept
// and the number of complete generations.
//
// 1. Frame generation by generation, as the decoder does, until the end or
// the first damage: every generation framed is complete, but for one the
// end of the input ends (before Go 1.26, whose generations end in band):
// the program died while it was being written.
// 2. Truncate after the last complete generation.
func (o *outputFile) salvage() (int64, int, error) {
	if o.InPlace() {
		o.Commit()
		return 0, 0, ErrNotRegular
	}
	r, err := o.ReadBack()
	if err != nil {
		o.Abort()
		return 0, 0, err
	}
	keep, gens, err := completePrefix(r)
	if err != nil {
		o.Abort()
		return 0, 0, err
	}
	if err := o.Truncate(keep); err != nil {
		o.Abort()
		return 0, 0, err
	}
	return keep, gens, o.Commit()
}

// completePrefix returns how many bytes of the trace r hold complete
// generations, and how many those are; see salvage.
func completePrefix(r io.Reader) (int64, int, error) {
	fr, v := framer(bufio.NewReaderSize(r, 256<<10))
	if fr == nil {
		return 0, 0, errNothingComplete
	}
	var spans []decode.Span
	for {
		s, err := fr.Next(nil)
		if err == io.EOF && v < format.Go126 && len(spans) > 0 {
			spans = spans[:len(spans)-1] // the input's end ended it
		}
		if err != nil {
			break
		}
		spans = append(spans, s)
	}
	if len(spans) == 0 {
		return 0, 0, errNothingComplete
	}
	return spans[len(spans)-1].End, len(spans), nil
}

// framer reads the header of a trace from src and returns the Framer of
// its body, nil when src holds no trace with generations.
func framer(src decode.FrameSource) (*decode.Framer, format.Version) {
	hdr, _ := src.Peek(format.HeaderSize)
	v, err := format.ParseHeader(hdr)
	if err != nil || !v.IsV2() {
		return nil, 0
	}
	src.Discard(format.HeaderSize)
	return decode.NewFramer(src, v, format.HeaderSize), v
}

// describeCut is what gotrace says about a salvaged trace: that it was cut,
// where, and what was lost.
func describeCut(path string, kept int64, gens int, received int64) string {
	plural := "s"
	if gens == 1 {
		plural = ""
	}
	return fmt.Sprintf("the trace was cut short: the program ended without stopping the tracer; %s keeps %d complete generation%s, up to byte 0x%x; the last %d of %d bytes traced are dropped",
		path, gens, plural, kept, received-kept, received)
}
