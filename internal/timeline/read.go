package timeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/gotrace-cli/gotrace/internal/decode"
	"github.com/gotrace-cli/gotrace/internal/order"
	"golang.org/x/exp/trace"
)

// Read reads the trace in r with golang.org/x/exp/trace, through a Source,
// and calls fn with each event in order until fn returns false. The Event
// is valid only during the call.
//
// Damage stops it after the complete generations before it, and comes back
// as an *decode.Error naming the generation and its first byte, whether
// the wire format, x/exp/trace's checks or a panic in x/exp/trace found
// it: no panic from it gets through.
func Read(r io.Reader, fn func(*trace.Event) bool) (src *Source, err error) {
	return ReadAt(r, nil, fn)
}

// ReadAt is Read of the input r, which at, when not nil, reads at its
// offsets as well (the file r reads from its start): the generation
// waiting for the next one's first timestamp is read from it again
// instead of held in memory.
func ReadAt(r io.Reader, at io.ReaderAt, fn func(*trace.Event) bool) (src *Source, err error) {
	src, err = NewSource(r)
	if err != nil {
		return nil, err // not a trace: a nil Source says so
	}
	src.split = true
	src.at = at
	syncs := 0
	defer func() {
		if p := recover(); p != nil {
			if !PanicInXExp() {
				panic(p) // a bug of gotrace's own, not damage
			}
			err = src.Damage(syncs, fmt.Errorf("reading events failed: %v", p))
			if debugPanics {
				err = fmt.Errorf("%w\n%s", err, debug.Stack())
			}
		}
	}()
	tr, err := trace.NewReader(src)
	if err != nil {
		// Nothing was delivered: for the old format, whose reader reads
		// it all at once, as for a header x/exp/trace refuses.
		return nil, src.Damage(0, err)
	}
	// N.B. One event for the whole loop: fn gets its address, and one
	// declared in the loop would be a new allocation each time round.
	var ev trace.Event
	for {
		ev, err = tr.ReadEvent()
		if err == io.EOF {
			return src, src.Err()
		}
		if err != nil {
			return src, src.Damage(syncs, err)
		}
		if ev.Kind() == trace.EventSync {
			syncs++
		}
		if !fn(&ev) {
			return src, nil
		}
	}
}

// Locate reads the trace in r in order and analyses none of it: it returns
// the sync events read and the damage that ends the reading, as ReadAt
// would, and holds no copy of a generation (at reads the input at its
// offsets; see ReadAt).
//
// gotrace's ordered reader reads first: it gives no event
// golang.org/x/exp/trace would not, so when it reads every complete
// generation to the end, golang.org/x/exp/trace does too, and the damage
// is the one the Source found after them, the same whoever reads. When it
// stops sooner, golang.org/x/exp/trace reads the input again, from again,
// so that the damage is named as every command names it.
func Locate(ctx context.Context, r io.Reader, at io.ReaderAt, again func() io.Reader) (syncs int, err error) {
	if syncs, ok, err := orderLocate(ctx, r, at); ok || ctx.Err() != nil {
		return syncs, err
	}
	n := 0
	syncs = 0
	src, err := ReadAt(again(), at, func(ev *trace.Event) bool {
		if ev.Kind() == trace.EventSync {
			syncs++
		}
		n++
		return n&4095 != 0 || ctx.Err() == nil
	})
	if src == nil {
		return 0, err
	}
	if err == nil {
		err = ctx.Err()
	}
	return syncs, err
}

// orderLocate is Locate's reading with gotrace's ordered reader. It
// reports false when that reader stopped before the end of the complete
// generations the Source hands it.
func orderLocate(ctx context.Context, r io.Reader, at io.ReaderAt) (syncs int, ok bool, err error) {
	src, err := NewSource(r)
	if err != nil {
		return 0, false, nil
	}
	src.at = at
	or, err := order.NewReader(src)
	if err != nil {
		return 0, false, nil
	}
	defer or.Close()
	var ev order.Event
	for n := 1; ; n++ {
		if err := or.Next(&ev); err != nil {
			if err == io.EOF {
				return syncs, true, src.Err()
			}
			return 0, false, nil
		}
		if ev.Kind() == trace.EventSync {
			syncs++
		}
		if n&4095 == 0 && ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
	}
}

// PanicInXExp reports, when called by a deferred function that recovered
// a panic, whether the panic began in golang.org/x/exp/trace (which panics
// on some damaged traces) rather than in gotrace's own code: the first
// frame of the panicking stack outside the runtime is the one that
// panicked.
func PanicInXExp() bool {
	pcs := make([]uintptr, 64)
	// N.B. Skip runtime.Callers, this function and the deferred one.
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			return strings.HasPrefix(f.Function, "golang.org/x/exp/trace.")
		}
		if !more {
			return false
		}
	}
}

// debugPanics adds the stack of a contained panic to its error, for
// whoever debugs one.
var debugPanics = false

// maxMessage bounds the length of an error message from x/exp/trace, some
// of which list whole tables.
const maxMessage = 200

// Damage is the *decode.Error for err, found by golang.org/x/exp/trace
// after it had started syncs generations: it names the generation it was
// reading. Damage the Source found first is what is reported.
func (s *Source) Damage(syncs int, err error) error {
	if s.err != nil {
		return s.err
	}
	if s.dr == nil {
		return OldFormatError(err) // no generations to name
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if len(msg) > maxMessage {
		// At a word, if there is one in the second half.
		cut := strings.LastIndexByte(msg[:maxMessage], ' ')
		if cut < maxMessage/2 {
			cut = maxMessage
		}
		msg = strings.ToValidUTF8(msg[:cut], "") + " …"
	}
	de := &decode.Error{Batch: -1, Err: fmt.Errorf("%s: %w", msg, decode.ErrCorrupt)}
	if gs := s.emitted; len(gs) > 0 {
		g := gs[min(max(syncs-1, 0), len(gs)-1)]
		de.Offset, de.Gen = g.Offset, g.Num
	}
	return de
}

// ErrEndsEarly says a trace in the old format (Go 1.21 and before), which
// golang.org/x/exp/trace reads whole and names no byte of, ends early.
var ErrEndsEarly = errors.New("the trace ends early")

// OldFormatError is err, golang.org/x/exp/trace's error reading a trace in
// the old format, saying so when the trace ends early: every command says
// it in these words.
func OldFormatError(err error) error {
	if (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) && !errors.Is(err, ErrEndsEarly) {
		return fmt.Errorf("%w (%w)", err, ErrEndsEarly)
	}
	return err
}

// ErrDamaged marks an error that came with a result: what the complete
// generations before the damage hold.
var ErrDamaged = errors.New("trace damaged")
