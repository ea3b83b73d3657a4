package record

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
)

// Summary is what a trace file holds, in the numbers gotrace reports after
// recording.
type Summary struct {
	Path        string
	Size        int64
	Version     format.Version
	Generations int
	Events      int64
	CPUSamples  int64
	Types       int64 // entries in the allocation type tables (--allocfree)
	Duration    time.Duration
}

// Summarize reads a trace file through the decoder.
func Summarize(path string) (*Summary, error) {
	// N.B. Stat first: opening a named pipe waits for a writer.
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, ErrNotRegular)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd, err := decode.NewReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rd.SetDetail(decode.Counts)
	s := &Summary{Path: path, Size: st.Size(), Version: rd.Version()}
	// N.B. The reader reuses its Generation, so keep numbers, not pointers.
	var firstMin, lastMax, freq uint64
	for {
		g, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		s.Generations++
		s.Events += int64(g.Events)
		s.CPUSamples += int64(len(g.CPUSamples))
		s.Types += int64(len(g.Types))
		if s.Generations == 1 {
			firstMin = g.MinTime
		}
		lastMax, freq = g.MaxTime, g.Frequency
	}
	if s.Generations > 0 && lastMax >= firstMin {
		s.Duration = time.Duration(decode.TicksToNanos(lastMax-firstMin, freq))
	}
	return s, nil
}
