package view

import (
	"errors"
	"fmt"
	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/format"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
)

// Open reads the trace in r for the viewer. A trace it cannot read at all
// gives a nil Trace and the error; a damaged one gives the Trace of its
// complete generations and the error that says where the damage is.
func Open(r io.Reader) (*Trace, error) {
	d, err := Load(r)
	if len(d.Goroutines) == 0 && d.End == 0 {
		if err == nil {
			err = errors.New("no events: an empty trace")
		}
		return nil, err
	}
	return NewTrace(d), err
}

// fullLimit is the largest trace read in full as it opens; a larger one
// is summarised first and read a few generations at a time.
const fullLimit = 32 << 20

// OpenFile reads the trace in f for the viewer: in full when it is small
// or not a regular file, else by summaries (see Summarize), so that even a
// trace of hundreds of megabytes opens at once.
func OpenFile(f *os.File) (*Trace, error) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return Open(f)
	}
	var t *Trace
	if fi.Size() <= fullLimit {
		t, err = Open(f)
	} else {
		t, err = openSummarized(f)
	}
	if t != nil {
		t.src = &source{r: f, size: fi.Size()}
	}
	return t, err
}

// openSummarized opens the trace in f by summaries.
func openSummarized(f *os.File) (*Trace, error) {
	hdr := make([]byte, format.HeaderSize)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		return Open(f)
	}
	gens, err := Summarize(f)
	if errors.Is(err, decode.ErrOldFormat) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return Open(f) // golang.org/x/exp/trace reads it whole
	}
	if len(gens) == 0 {
		if err == nil {
			err = errors.New("no events: an empty trace")
		}
		return nil, err
	}
	t := &Trace{Start: gens[0].Start, End: gens[len(gens)-1].Last, Gens: gens, file: f, header: hdr, maxBytes: maxBytes}
	t.heap = joinParts(gens, func(g *GenSummary) *[]Sample { return &g.Heap })
	t.gc = joinParts(gens, func(g *GenSummary) *[]Range { return &g.GC })
	t.stw = joinParts(gens, func(g *GenSummary) *[]Range { return &g.STW })
	return t, err
}

// joinParts puts the part of each summary that part names one after the
// other in one array, and makes each summary's part its piece of it: the
// whole trace's heap samples (hundreds of thousands on a large trace),
// GC cycles and stopped worlds, which every screen drawn from the
// summaries draws, at no copy.
func joinParts[T any](gens []GenSummary, part func(*GenSummary) *[]T) []T {
	n := 0
	for i := range gens {
		n += len(*part(&gens[i]))
	}
	all := make([]T, 0, n)
	for i := range gens {
		p := part(&gens[i])
		a := len(all)
		all = append(all, *p...)
		*p = all[a:len(all):len(all)]
	}
	return all
}

// namedKeys are the keys ParseKeys takes by name.
var namedKeys = map[string]tea.Key{}

func init() {
	for _, k := range []tea.Key{
		{Code: tea.KeyUp}, {Code: tea.KeyDown}, {Code: tea.KeyLeft}, {Code: tea.KeyRight},
		{Code: tea.KeyEnter}, {Code: tea.KeyEscape}, {Code: tea.KeySpace, Text: " "}, {Code: tea.KeyTab},
		{Code: tea.KeyPgUp}, {Code: tea.KeyPgDown}, {Code: tea.KeyHome}, {Code: tea.KeyEnd},
		{Code: tea.KeyLeft, Mod: tea.ModShift}, {Code: tea.KeyRight, Mod: tea.ModShift},
		{Code: 'c', Mod: tea.ModCtrl}, {Code: tea.KeyBackspace},
	} {
		namedKeys[k.Keystroke()] = k
	}
}

// ParseKeys reads space-separated key presses: a key's name as Bubble Tea
// spells it (down, enter, space, shift+right, ...), or text, typed a
// character at a time.
func ParseKeys(s string) ([]tea.KeyPressMsg, error) {
	var out []tea.KeyPressMsg
	for _, w := range strings.Fields(s) {
		if k, ok := namedKeys[w]; ok {
			out = append(out, tea.KeyPressMsg(k))
			continue
		}
		if strings.Contains(w, "+") && len(w) > 1 && !strings.HasPrefix(w, "+") {
			return nil, fmt.Errorf("%q: not a key this viewer takes", w)
		}
		for _, r := range w {
			out = append(out, typed(r))
		}
	}
	return out, nil
}

// typed is the key press of r as Bubble Tea reads it from a terminal:
// an upper-case ASCII letter is its lower-case key with shift.
func typed(r rune) tea.KeyPressMsg {
	k := tea.KeyPressMsg{Code: r, Text: string(r)}
	if r < utf8.RuneSelf && unicode.IsUpper(r) {
		k.Code, k.ShiftedCode, k.Mod = unicode.ToLower(r), r, tea.ModShift
	}
	return k
}
