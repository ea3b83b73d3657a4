package bench

import "io"

// Loop is one in-process reader the harness measures, one per subprocess so
// each gets its own peak RSS.
type Loop struct {
	Name string
	Doc  string
	// Run reads the whole trace and returns how many events it saw.
	Run func(io.Reader) (int64, error)
}

// Loops lists the in-process readers, the floor first.
var Loops = []Loop{
	{"walk", "bare walk: frame batches, read every varint", func(r io.Reader) (int64, error) {
		c, err := Walk(r)
		return c.Events, err
	}},
	{"xexp", "golang.org/x/exp/trace ReadEvent loop", XExpLoop},
	{"order", "gotrace's own ordered reader: order.Reader.Next, x/exp/trace's events", OrderLoop},
	{"decode", "gotrace full decode: decode.Reader.Next, every event and table", DecodeLoop},
	{"decode-batches", "gotrace full decode a batch at a time: Reader.BatchEvents", DecodeBatchesLoop},
	{"decode-each", "gotrace full decode an event at a time: Reader.EachEvent", DecodeEachLoop},
	{"decode-parallel", "gotrace full decode on every core: Reader.Parallel with EachEvent", DecodeParallelLoop},
}

// LoopNamed returns the loop called name, or nil.
func LoopNamed(name string) *Loop {
	for i := range Loops {
		if Loops[i].Name == name {
			return &Loops[i]
		}
	}
	return nil
}
