// Package golden compares test output with golden files: one place for
// the rule every package's goldens follow (-update rewrites them; a
// mismatch leaves the output beside the golden as a .got file and names
// the first line that differs).
package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Check compares got with the golden file at path, or, with update,
// writes it there.
func Check(t testing.TB, path, got string, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got == string(want) {
		os.Remove(path + ".got")
		return
	}
	os.WriteFile(path+".got", []byte(got), 0o644)
	i, g, w := FirstDiff(got, string(want))
	t.Fatalf("%s: line %d differs (wrote %s.got; -update rewrites):\n got: %q\nwant: %q", path, i, path, g, w)
}

// FirstDiff is the first line (counted from 1) where got and want
// differ, and the two lines there; 0 when they do not.
func FirstDiff(got, want string) (line int, g, w string) {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(gl), len(wl)) {
		g, w = "", ""
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			return i + 1, g, w
		}
	}
	return 0, "", ""
}
