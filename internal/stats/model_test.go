package stats

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
)

// small is reftest.LifeTrace, whose comment tells its known answers.
func small(t *testing.T) []byte {
	t.Helper()
	data, err := reftest.LifeTrace()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// finishTrace appends the tables every generation needs (see
// reftest.Tables) and returns the trace.
func finishTrace(t *testing.T, e *format.Encoder, freq uint64, strs ...string) []byte {
	t.Helper()
	reftest.Tables(e, freq, strs...)
	data, err := e.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func computeBytes(t *testing.T, data []byte) (*Model, error) {
	t.Helper()
	return Compute(context.Background(), "small.trace", bytes.NewReader(data), int64(len(data)), Options{})
}

func TestKnownAnswers(t *testing.T) {
	m, err := computeBytes(t, small(t))
	if err != nil {
		t.Fatal(err)
	}
	type check struct {
		name      string
		got, want int64
	}
	g := m.Goroutines
	for _, c := range []check{
		{"goroutines.created", int64(g.Created), 1},
		{"goroutines.ended", int64(g.Ended), 1},
		{"goroutines.existing", int64(g.Existing), 1},
		{"goroutines.peak_alive", int64(g.PeakAlive), 2},
		{"goroutines.alive_at_end", int64(g.AliveAtEnd), 1},
		{"goroutines.leaked", int64(g.Leaked), 1},
		{"goroutines.running_ns", int64(g.Running), 19 + 100 + 50 + 150},
		{"goroutines.runnable_ns", int64(g.Runnable), 200 + 50 + 40},
		{"goroutines.blocked_ns", int64(g.Blocked), 80 + 501},
		{"sched.latency.count", int64(m.Sched.Latency.Count), 2},
		{"sched.latency.total", int64(m.Sched.Latency.Total), 250},
		{"sched.latency.max", int64(m.Sched.Latency.Max), 200},
		{"sched.latency.p50", int64(m.Sched.Latency.P50), 50},
		{"sched.start_latency.total", int64(m.Sched.StartLatency.Total), 40},
		{"blocking.channel.count", int64(m.Blocking.Channel.Count), 1},
		{"blocking.channel.total", int64(m.Blocking.Channel.Total), 80},
		{"blocking.sync_ns", int64(m.Blocking.Sync), 80},
		{"blocking.net_ns", int64(m.Blocking.Net), 0},
		{"overview.gomaxprocs", int64(m.Overview.GOMAXPROCS), 0},
		{"overview.generations", int64(m.Overview.Generations), 1},
		{"overview.batches", int64(m.Overview.Batches), 4},
		{"findings.leaks", int64(len(m.Findings.Leaks)), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if l := m.Findings.Leaks; len(l) == 1 && (l[0].Reason != "chan receive" || l[0].BlockedMax != 501 || l[0].Count != 1) {
		t.Errorf("leak = %+v, want 1 goroutine blocked 501ns on chan receive", l[0])
	}
	if w := m.Findings.SchedWaits; len(w) == 0 || w[0].Wait != 200 || w[0].Goroutine != 1 {
		t.Errorf("worst sched wait = %+v, want goroutine 1 waiting 200ns", w)
	}
	if r := m.Blocking.Reasons; len(r) != 1 || r[0].Reason != "chan receive" || r[0].Dist.Total != 80 {
		t.Errorf("blocking reasons = %+v, want one: chan receive 80ns", r)
	}
}

// TestDamagedKeepsCompleteGenerations cuts a two-generation trace inside
// its second generation.
func TestDamagedKeepsCompleteGenerations(t *testing.T) {
	data := readTrace(t, "demo.trace")
	full, err := computeBytes(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Overview.PerGeneration) < 2 {
		t.Skip("demo.trace has a single generation")
	}
	g2 := full.Overview.PerGeneration[1]
	cut := data[:g2.Offset+g2.Bytes/2]
	m, err := computeBytes(t, cut)
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("error = %v, want ErrDamaged", err)
	}
	if m == nil || !m.Damage.Damaged {
		t.Fatalf("model = %+v, want a damaged model", m)
	}
	if m.Overview.Generations != 1 {
		t.Errorf("generations = %d, want 1", m.Overview.Generations)
	}
	if want := ByteCount(len(cut)) - g2.Offset; m.Damage.LostBytes != want {
		t.Errorf("lost bytes = %d, want %d", m.Damage.LostBytes, want)
	}
	if m.Overview.Events == 0 || m.Overview.Events >= full.Overview.Events {
		t.Errorf("events = %d, want some but fewer than %d", m.Overview.Events, full.Overview.Events)
	}
}

// TestTruncatedIsItsPrefix: a trace cut inside its last generation is
// analysed as the trace of its complete generations is, every number the
// same but the file's size and the damage (the complete generations are
// analysed in parts once a reading in order has found the damage).
func TestTruncatedIsItsPrefix(t *testing.T) {
	for _, name := range []string{"annotated.trace", "demo.trace", "flight.trace", "hotlock.trace", "overlap.trace"} {
		t.Run(name, func(t *testing.T) {
			data := readTrace(t, name)
			full, err := computeBytes(t, data)
			if err != nil {
				t.Fatal(err)
			}
			gens := full.Overview.PerGeneration
			if len(gens) < 2 {
				t.Fatalf("%d generations, want several", len(gens))
			}
			last := gens[len(gens)-1]
			cut, err := computeBytes(t, data[:last.Offset+last.Bytes/2])
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("cut: error %v, want ErrDamaged", err)
			}
			prefix, err := computeBytes(t, data[:last.Offset])
			if err != nil {
				t.Fatal(err)
			}
			if !cut.Damage.Damaged || cut.Damage.LostBytes != last.Bytes/2 {
				t.Errorf("cut: damage %+v, want %d bytes lost", cut.Damage, last.Bytes/2)
			}
			cut.Damage, cut.Overview.FileBytes = prefix.Damage, prefix.Overview.FileBytes
			got, _ := json.Marshal(cut)
			want, _ := json.Marshal(prefix)
			if !bytes.Equal(got, want) {
				t.Errorf("the cut trace's model differs from its complete generations':\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestNotATrace(t *testing.T) {
	for _, in := range []string{"", "go 1.2", "hello, world, this is not a trace"} {
		m, err := computeBytes(t, []byte(in))
		if err == nil || m != nil {
			t.Errorf("%q: got model %v, error %v; want an error", in, m != nil, err)
		}
	}
}

// TestDamageNeverPanics cuts and corrupts a real trace in many places: every
// variant gives a model or an error, never a panic.
func TestDamageNeverPanics(t *testing.T) {
	data := readTrace(t, "leaky.trace")
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 60 {
		b := bytes.Clone(data)
		switch i % 3 {
		case 0: // cut
			b = b[:r.IntN(len(b))]
		case 1: // flip bytes
			for range 1 + r.IntN(8) {
				b[16+r.IntN(len(b)-16)] ^= byte(1 + r.IntN(255))
			}
		case 2: // cut and splice
			at := r.IntN(len(b))
			b = append(b[:at:at], b[r.IntN(len(b)):]...)
		}
		m, err := computeBytes(t, b)
		if m == nil && err == nil {
			t.Fatalf("variant %d: no model and no error", i)
		}
		if m != nil && err != nil && !errors.Is(err, ErrDamaged) {
			t.Fatalf("variant %d: a model with error %v", i, err)
		}
	}
}
