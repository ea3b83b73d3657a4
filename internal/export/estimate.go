package export

// Bytes of output per byte of trace, for a whole trace: upper bounds of what
// the committed traces and traces of testdata/progs/stress export to. A
// busy trace (stress, overlap.trace) is the worst case, its Perfetto export
// 1.9-2.0 times its size and its Chrome JSON 38-47 times; quieter traces
// make less (0.2-0.6 and 2-32 times).
const (
	perfettoPerByte = 2.5
	chromePerByte   = 50
)

// BrowserLimit is the output size past which ui.perfetto.dev, which reads
// a trace into the browser's memory, no longer opens an export.
const BrowserLimit = 1e9

// EstimateSize returns about how many bytes an export of a whole trace of
// size bytes writes in format f, erring on the high side.
func EstimateSize(f Format, size int64) int64 {
	if f == Chrome {
		return size * chromePerByte
	}
	return int64(float64(size) * perfettoPerByte)
}
