package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/tables"
)

// TestREADMEParquet keeps the README's column layout of the Parquet tables
// the one the export writes. -update rewrites it in place.
func TestREADMEParquet(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	begin, end := "<!-- parquet-layout begin -->\n", "<!-- parquet-layout end -->"
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatal("README lacks the parquet-layout markers")
	}
	body := tables.Layout()
	if readme[i+len(begin):j] == body {
		return
	}
	if !*updateGolden {
		t.Fatal("README's Parquet column layout is stale (go test ./cmd/gotrace -run README -update)")
	}
	readme = readme[:i+len(begin)] + body + readme[j:]
	if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
}
