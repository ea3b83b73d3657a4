package view

import (
	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/exp/trace"
)

// Trace is what the model shows: the trace's span and its data.
type Trace struct {
	// Start and End bound the trace.
	Start, End trace.Time
	// Full is the whole trace read in full, for a trace small enough.
	Full *Data
}

// NewTrace is the Trace of data read in full.
func NewTrace(d *Data) *Trace {
	return &Trace{Start: d.Start, End: d.End, Full: d}
}

// loadedMsg brings the data of a window read in the background.
type loadedMsg struct {
	data *Data
	err  error
}

// need starts reading what the window needs, if anything.
func (m *Model) need() tea.Cmd {
	return nil
}

func (m *Model) loaded(msg loadedMsg) tea.Cmd {
	m.loading = false
	if msg.err != nil {
		m.status = msg.err.Error()
	}
	if msg.data != nil {
		m.setData(msg.data)
	}
	return nil
}
