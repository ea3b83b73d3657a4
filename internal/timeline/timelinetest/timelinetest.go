// Package timelinetest helps tests compare gotrace with other tools on the
// same times.
package timelinetest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/timeline/reftest"
)

// Restamped is the path of the trace at path as gotrace reads it (late
// status batches moved back; see timeline.Source), for another tool to
// read the same times: path itself when nothing is moved.
func Restamped(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, moved := RestampedData(t, data)
	if !moved {
		return path
	}
	p := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// GoToolTraceInput is Restamped, and whether go tool trace's numbers are
// comparable with gotrace's on it: not when a goroutine ID is used by two
// goroutines, which go tool trace merges into one.
func GoToolTraceInput(t testing.TB, path string) (string, bool) {
	t.Helper()
	p := Restamped(t, path)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, ok, err := reftest.GoroutinePages(f)
	if err != nil {
		t.Fatal(err)
	}
	return p, ok
}

// RestampedData is the trace data as gotrace reads it (see Restamped), and
// whether any batch was moved.
func RestampedData(t testing.TB, data []byte) ([]byte, bool) {
	t.Helper()
	var out bytes.Buffer
	src, err := timeline.Copy(&out, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if src.Err() != nil {
		t.Fatal(src.Err())
	}
	return out.Bytes(), src.Restamped > 0
}
