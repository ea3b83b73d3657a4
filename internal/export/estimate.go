package export

// Bytes of output per byte of trace, for a whole trace: upper bounds of what
// the committed traces and traces of testdata/progs/stress export to. A
// busy trace (stress, overlap.trace) is the worst case: its Perfetto file
// 1.9-2.0 times its size, the packets compressed in it 10-11 times, its
// Chrome JSON 38-47 times; quieter traces make less.
const (
	perfettoFilePerByte   = 2.5
	perfettoLoadedPerByte = 12
	chromePerByte         = 50
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
