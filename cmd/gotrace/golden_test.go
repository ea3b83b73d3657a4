package main

import (
	"flag"
	"path/filepath"
	"testing"
)

// updateGolden rewrites golden files and script expectations from the
// current output: go test ./cmd/gotrace -update.
var updateGolden = flag.Bool("update", false, "rewrite golden files")

// goldenCase is one run of gotrace whose stdout is pinned in
// testdata/golden: on a terminal or not, and the exit status it must give.
type goldenCase struct {
	golden string
	tty    bool
	args   []string
	code   int
}

func checkGoldens(t *testing.T, cases []goldenCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			out, _, code := statsRun(t, tc.tty, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d", code, tc.code)
			}
			checkGolden(t, filepath.Join("testdata", "golden", tc.golden), out)
		})
	}
}
