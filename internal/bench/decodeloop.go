package bench

import (
	"io"

	"github.com/gotrace-cli/gotrace/internal/decode"
)

// DecodeLoop is gotrace's full decode with the output thrown away: every
// generation through decode.Reader.Next, touching every event (type, time,
// arguments, data) and every table entry (strings, stack frames, CPU
// samples), as any consumer of the decoder at least would. It returns the
// number of events the decoder counted.
func DecodeLoop(r io.Reader) (int64, error) {
	dr, err := decode.NewReader(r)
	if err != nil {
		return 0, err
	}
	var events int64
	var sink uint64
	for {
		g, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return events, err
		}
		events += int64(g.Events)
		for i := range g.Batches {
			b := &g.Batches[i]
			for j := range b.Events {
				ev := &b.Events[j]
				sink += uint64(ev.Type) + ev.Time + uint64(len(ev.Data))
				for _, a := range ev.Args {
					sink += a
				}
			}
		}
		for _, s := range g.Strings {
			sink += uint64(len(s))
		}
		for _, st := range g.Stacks {
			for _, f := range st.Frames {
				sink += f.PC + f.Line + uint64(len(f.Func)+len(f.File))
			}
		}
		for _, s := range g.CPUSamples {
			sink += s.Time + s.Stack
		}
	}
	touched = sink
	return events, nil
}

// touched keeps the loops' reads from being optimised away.
var touched uint64
