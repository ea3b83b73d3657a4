package format

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Version is the minor Go version named in a trace's header: 22 for
// "go 1.22 trace". Go 1.24 writes 23, Go 1.27 writes 26.
type Version uint32

const (
	Go111 Version = 11 // oldest v1 format
	Go119 Version = 19
	Go121 Version = 21 // newest v1 format
	Go122 Version = 22 // first v2 format
	Go123 Version = 23 // coroutines, GoStatusStack, experimental batches
	Go125 Version = 25 // sync batches and clock snapshots
	Go126 Version = 26 // in-band end of generation

	Current = Go126
)

// HeaderSize is the length of every trace header.
const HeaderSize = 16

var versionTables = map[Version][]EventSpec{
	Go122: table[:EvUserLog+1],
	Go123: table[:EvExperimentalBatch+1],
	Go125: table[:EvClockSnapshot+1],
	Go126: table[:EvEndOfGeneration+1],
}

// Versions lists the v2 versions, oldest first.
func Versions() []Version { return []Version{Go122, Go123, Go125, Go126} }

// IsV2 reports whether v is a version of the format this package describes.
func (v Version) IsV2() bool { _, ok := versionTables[v]; return ok }

// IsV1 reports whether v is one of the older Go 1.11–1.21 format versions.
func (v Version) IsV1() bool { return v >= Go111 && v <= Go121 }

// HasExperiments reports whether v may carry experimental batches and events.
func (v Version) HasExperiments() bool { return v >= Go123 }

func (v Version) String() string { return "go1." + strconv.FormatUint(uint64(v), 10) }

// Spec returns the layout of t in version v, or nil if v has no such event.
func (v Version) Spec(t EventType) *EventSpec {
	tab := versionTables[v]
	if int(t) < len(tab) {
		if t == EvNone {
			return nil
		}
		return &tab[t]
	}
	if t.Experimental() && v.HasExperiments() {
		return &table[t]
	}
	return nil
}

// Specs returns the whole table for v: every event type the version knows,
// experimental ones included. Unknown types have a zero EventSpec.
func (v Version) Specs() *[256]EventSpec {
	var out [256]EventSpec
	for t := range 256 {
		if s := v.Spec(EventType(t)); s != nil {
			out[t] = *s
		}
	}
	return &out
}

// EventName returns t's name in version v, or "Invalid(N)".
func (v Version) EventName(t EventType) string {
	if s := v.Spec(t); s != nil {
		return s.Name
	}
	return "Invalid(" + strconv.Itoa(int(t)) + ")"
}

// Header errors. ErrNotTrace means the bytes do not start like a Go trace at
// all; ErrUnknownVersion wraps a header that names an unsupported version.
var (
	ErrNotTrace       = errors.New("not a Go execution trace (want header \"go 1.NN trace\\x00\\x00\\x00\")")
	ErrUnknownVersion = errors.New("unknown trace version")
)

// ParseHeader reads the version from a 16-byte header. It recognises the
// v1 versions too, so callers can say what reads them; it returns
// ErrUnknownVersion (wrapped) for any other number.
func ParseHeader(h []byte) (Version, error) {
	if len(h) < HeaderSize || !bytes.HasPrefix(h, []byte("go 1.")) {
		return 0, ErrNotTrace
	}
	rest := h[len("go 1."):HeaderSize]
	i := bytes.IndexByte(rest, ' ')
	if i <= 0 || i > 3 || !bytes.HasPrefix(rest[i:], []byte(" trace")) ||
		len(bytes.Trim(rest[i+len(" trace"):], "\x00")) != 0 {
		return 0, ErrNotTrace
	}
	n, err := strconv.ParseUint(string(rest[:i]), 10, 32)
	if err != nil {
		return 0, ErrNotTrace
	}
	v := Version(n)
	if !v.IsV2() && !v.IsV1() {
		vs := Versions()
		known := make([]string, len(vs))
		for i, kv := range vs {
			known[i] = "1." + strconv.FormatUint(uint64(kv), 10)
		}
		return v, fmt.Errorf("%w go 1.%d, want go %s or %s", ErrUnknownVersion, n, strings.Join(known[:len(known)-1], ", "), known[len(known)-1])
	}
	return v, nil
}

// AppendHeader appends the header for v.
func AppendHeader(b []byte, v Version) []byte {
	b = append(b, "go 1."...)
	b = strconv.AppendUint(b, uint64(v), 10)
	b = append(b, " trace"...)
	for len(b)%HeaderSize != 0 {
		b = append(b, 0)
	}
	return b
}
