package export

// Bytes of output per byte of trace, for a whole trace: upper bounds of what
// the committed traces and traces of testdata/progs/stress export to. The
// densest is a trace of goroutines handing off to one another through
// iter.Pull (pull.trace): each switch is slices and a flow, and its
// Perfetto file is 3.0-3.5 times its size, the packets in it 34.5 times, its
// Chrome JSON 145 times. A busy service (stress, overlap.trace) makes about
// 2, 11 and 47 times; quieter traces less.
const (
	perfettoFilePerByte   = 3.6
	perfettoLoadedPerByte = 36
	chromePerByte         = 150
)

// BrowserLimit is about how many bytes of trace events ui.perfetto.dev,
// which reads a whole trace into the browser's memory, opens.
const BrowserLimit = 1e9

// Estimate returns about how many bytes an export of a whole trace of size
// bytes writes in format f, and how many a viewer reads from it: for
// Perfetto's format, the packets once the compressed bundles are expanded.
// Both err on the high side.
func Estimate(f Format, size int64) (file, loaded int64) {
	if f == Chrome {
		return size * chromePerByte, size * chromePerByte
	}
	return int64(float64(size) * perfettoFilePerByte), size * perfettoLoadedPerByte
}
