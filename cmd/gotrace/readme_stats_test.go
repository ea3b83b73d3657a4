package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gotrace-cli/gotrace/internal/diff"
	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

// TestREADMEStats keeps the README's gotrace stats, check, diff, tasks and why sections true:
// every example block that runs one of those commands shows that
// command's real output, and the schema and path tables are generated from
// the model's tags. -update rewrites them in place.
func TestREADMEStats(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	t.Chdir(filepath.Join("..", ".."))

	// 1. Generated tables between markers.
	for name, body := range map[string]string{
		"stats-schema": schemaTable(stats.Describe(stats.Model{})),
		"check-schema": schemaTable(stats.Describe(report.CheckResult{})),
		"check-paths":  pathTable(),
		"tasks-schema": schemaTable(stats.Describe(report.TaskListJSON{})),
		"task-schema":  schemaTable(stats.Describe(report.TaskJSON{})),
		"why-schema":   schemaTable(stats.Describe(report.WhyJSON{})),
		"diff-schema":  schemaTable(stats.Describe(diff.Diff{})),
	} {
		begin, end := "<!-- "+name+" begin -->\n", "<!-- "+name+" end -->"
		i, j := strings.Index(readme, begin), strings.Index(readme, end)
		if i < 0 || j < i {
			t.Errorf("README lacks the %q markers", name)
			continue
		}
		if got := readme[i+len(begin) : j]; got != body {
			if !*updateGolden {
				t.Errorf("README %s table is stale (go test ./cmd/gotrace -run README -update)", name)
			}
			readme = readme[:i+len(begin)] + body + readme[j:]
		}
	}

	// 2. Example blocks: "$ gotrace stats ..." then the output.
	block := regexp.MustCompile("(?s)```\n\\$ (gotrace (?:stats|check|diff|tasks|why) [^\n|]*)\n(.*?)```\n")
	readme = block.ReplaceAllStringFunc(readme, func(b string) string {
		m := block.FindStringSubmatch(b)
		args, err := splitArgs(strings.TrimPrefix(m[1], "gotrace "))
		if err != nil {
			t.Errorf("%s: %v", m[1], err)
			return b
		}
		io, out, _ := fakeStreams(false)
		run(args, io)
		if out.String() != m[2] {
			if !*updateGolden {
				t.Errorf("README example %q shows other output than the command prints (go test ./cmd/gotrace -run README -update)", m[1])
			}
			return "```\n$ " + m[1] + "\n" + out.String() + "```\n"
		}
		return b
	})
	if *updateGolden && readme != string(data) {
		if err := os.WriteFile("README.md", []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// splitArgs splits a command line on spaces, keeping single-quoted words
// whole.
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inQuote, have := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			inQuote, have = !inQuote, true
		case r == ' ' && !inQuote:
			if have {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote")
	}
	if have {
		args = append(args, cur.String())
	}
	return args, nil
}

func schemaTable(docs []stats.FieldDoc) string {
	var b strings.Builder
	b.WriteString("| field | type | unit | meaning |\n|---|---|---|---|\n")
	for _, d := range docs {
		unit := d.Unit
		if unit == "" {
			unit = "–"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", d.Path, d.Type, unit, mdCell(d.Help))
	}
	return b.String()
}

func pathTable() string {
	var b strings.Builder
	b.WriteString("| path | unit | meaning |\n|---|---|---|\n")
	for _, f := range stats.Fields() {
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", f.Path, f.Unit, mdCell(f.Help))
	}
	return b.String()
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
