package view

import (
	"context"
	"fmt"
	"io"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/gotrace-cli/gotrace/internal/stats"
	"github.com/gotrace-cli/gotrace/internal/timeline"
)

// findingsMsg brings the ranked findings of gotrace stats for
// generations first to last (-1, -1: the whole trace).
type findingsMsg struct {
	first, last int
	ranked      []stats.Finding
	err         error
}

// findingsCmd runs gotrace stats's analysis in the background over the
// generations under the window (the whole trace, read in full), unless
// those are what the findings already cover. One runs at a time: when it
// is done, the generations under the window then are asked for, if
// they are others.
func (m *Model) findingsCmd() tea.Cmd {
	src := m.tr.src
	if src == nil {
		return nil
	}
	first, last := -1, -1
	if m.tr.Full == nil {
		first, last = m.tr.gensIn(m.from, m.to)
		if first < 0 || last-first+1 > maxGens {
			m.findingsErr = fmt.Sprintf("findings: zoom in to %d generations or fewer", maxGens)
			return nil
		}
	}
	if m.findingsDone && first == m.findingsFirst && last == m.findingsLast {
		m.findingsErr = m.findingsFail
		return nil
	}
	m.findingsErr = "finding what to fix…"
	if m.findingsBusy {
		return nil
	}
	m.findingsBusy = true
	tr := m.tr
	return func() tea.Msg {
		var r io.ReaderAt = src.r
		size := src.size
		if first >= 0 {
			r, size = tr.gens(first, last)
		}
		tr.reading.Lock()
		defer tr.reading.Unlock()
		m, err := stats.Compute(context.Background(), "", r, size, stats.Options{Top: 5, Kinds: 1 << timeline.User})
		if err != nil {
			return findingsMsg{first: first, last: last, err: err}
		}
		return findingsMsg{first: first, last: last, ranked: m.Findings.Ranked}
	}
}

// joined is a header and the generations after it, as one trace.
type joined struct {
	header []byte
	body   io.ReaderAt
}

func (j joined) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	if off < int64(len(j.header)) {
		n = copy(p, j.header[off:])
		if n == len(p) {
			return n, nil
		}
	}
	k, err := j.body.ReadAt(p[n:], max(off-int64(len(j.header)), 0))
	return n + k, err
}

func (m *Model) gotFindings(msg findingsMsg) tea.Cmd {
	m.findingsBusy = false
	m.findingsFail = ""
	if msg.err != nil {
		m.findingsFail = "findings: " + msg.err.Error()
	}
	m.findingsErr = m.findingsFail
	m.findings, m.findingsDone = msg.ranked, true
	m.findingsFirst, m.findingsLast = msg.first, msg.last
	if m.pane != paneStats {
		return nil
	}
	return m.findingsCmd()
}

// findingRows are gotrace stats's ranked findings, one a row.
func (m *Model) findingRows() []string {
	if m.findingsErr != "" {
		return []string{m.findingsErr}
	}
	if !m.findingsDone {
		return nil
	}
	of := "the whole trace"
	if m.findingsFirst >= 0 {
		of = fmt.Sprintf("generations %d–%d", m.tr.Gens[m.findingsFirst].Num, m.tr.Gens[m.findingsLast].Num)
	}
	if len(m.findings) == 0 {
		return []string{"gotrace stats finds nothing to fix in " + of}
	}
	rows := []string{"gotrace stats's findings, for " + of + ":"}
	for _, f := range m.findings {
		rows = append(rows, fmt.Sprintf("  %-6s %s", strings.ToUpper(f.Severity), f.What))
	}
	return rows
}
