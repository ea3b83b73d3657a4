package report

import (
	"bytes"
	"testing"
	"time"

	"github.com/gotrace-cli/gotrace/internal/drill"
)

// TestJSONRows: a list written a row at a time is the document writeJSON
// writes whole, byte for byte.
func TestJSONRows(t *testing.T) {
	all := []drill.Goroutine{
		{ID: 1, Name: "main.main", Kind: "user", Creator: -1, Ended: -1, StateAtEnd: "blocked", ReasonAtEnd: "chan receive",
			Blocked: time.Second, BlockedByCat: map[string]time.Duration{"channel": time.Second, "mutex": 0}},
		{ID: 7, Incarnation: 2, Name: "main.<lambda>&co", Kind: "user", Creator: 1, Ended: 5, StateAtEnd: "ended",
			Running: 3, BlockedByCat: map[string]time.Duration{}},
		{ID: 9, Kind: "runtime", Existed: true, Creator: -1, Ended: -1, StateAtEnd: "running", BlockedByCat: map[string]time.Duration{}},
	}
	for n := range len(all) + 1 {
		rows := all[:n]
		var whole, byRow bytes.Buffer
		if err := writeJSON(&whole, GoroutineList{Schema: drill.GoroutinesSchema, File: "f.trace", Total: 10, Goroutines: rows}); err != nil {
			t.Fatal(err)
		}
		err := writeJSONRows(&byRow, GoroutineList{Schema: drill.GoroutinesSchema, File: "f.trace", Total: 10, Goroutines: []drill.Goroutine{}},
			n, func(i int) any { return rows[i] })
		if err != nil {
			t.Fatal(err)
		}
		if byRow.String() != whole.String() {
			t.Errorf("%d rows:\n%s\nwhole:\n%s", n, byRow.String(), whole.String())
		}
	}
}
