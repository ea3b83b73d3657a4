package export

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/stats"
)

// TestAgreesWithStats compares an export of the annotated trace with what
// gotrace stats finds in it: goroutines, collections, stop-the-world
// pauses, regions, tasks and CPU samples.
func TestAgreesWithStats(t *testing.T) {
	const file = "../../testdata/traces/annotated.trace"
	m, err := stats.ComputeFile(context.Background(), file, stats.Options{Top: 10})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := exportBytes(t, data, Options{Format: Perfetto})
	tl := readPerfetto(t, b)

	goroutines := 0
	for name := range tl.tracks {
		if goroutineTrack.MatchString(name) && !strings.HasSuffix(name, " annotations") {
			goroutines++
		}
	}
	var regions, tasks int64
	for _, r := range m.Annotations.Regions {
		regions += r.Dist.Count
	}
	for _, r := range m.Annotations.Tasks {
		tasks += r.Dist.Count
	}
	for _, c := range []struct {
		what      string
		got, want int64
	}{
		{"goroutines", int64(goroutines), m.Goroutines.Created + m.Goroutines.Existing},
		{"GC cycles", int64(count(tl, func(e tevent) bool { return e.ph == 'B' && e.track == "GC" })), m.GC.Cycles},
		{"stop-the-world pauses", int64(count(tl, func(e tevent) bool { return e.ph == 'B' && e.track == "Stop the world" })), m.GC.STW.Count},
		{"regions", int64(count(tl, func(e tevent) bool { return e.ph == 'B' && e.cat == "region" })), regions},
		{"tasks", int64(count(tl, func(e tevent) bool { return e.ph == 'B' && e.cat == "task" })), tasks},
		{"CPU samples", int64(count(tl, func(e tevent) bool { return e.ph == 'i' && e.cat == "cpu" })), m.CPU.Samples},
	} {
		if c.got != c.want || c.want == 0 {
			t.Errorf("%s: export has %d, gotrace stats %d (and it should be more than none)", c.what, c.got, c.want)
		}
	}
}
