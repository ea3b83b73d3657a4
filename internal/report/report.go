// Package report renders gotrace's models as styled terminal text, plain
// text, Markdown or JSON. It computes nothing and never asks what the output
// is attached to: the caller says, through Options.
package report

import (
	"charm.land/lipgloss/v2"
)

// Mode is an output form.
type Mode int

const (
	Plain    Mode = iota // aligned text, no colour, no box drawing
	Styled               // colour and emphasis for a terminal
	Markdown             // tables for pasting into a pull request
	JSON                 // machine-readable, with a versioned schema
)

// Options say how to render.
type Options struct {
	Mode  Mode
	Width int // terminal width in columns; 0 means unknown
}

// Theme holds the styles used in Styled mode. In any other mode every style
// renders its text unchanged.
type Theme struct {
	Title, Heading, Label, Value, Dim, Good, Bad, Warn lipgloss.Style
}

// NewTheme returns the styles of mode. Styled mode always uses the same
// 256 colours, so output is the same whatever environment the tests run
// in; every other mode's styles add nothing.
func NewTheme(mode Mode) Theme {
	if mode != Styled {
		return Theme{}
	}
	s := lipgloss.NewStyle
	return Theme{
		Title:   s().Bold(true).Foreground(lipgloss.Color("39")),
		Heading: s().Bold(true).Foreground(lipgloss.Color("75")),
		Label:   s().Foreground(lipgloss.Color("245")),
		Value:   s().Foreground(lipgloss.Color("252")),
		Dim:     s().Foreground(lipgloss.Color("240")),
		Good:    s().Foreground(lipgloss.Color("42")),
		Bad:     s().Bold(true).Foreground(lipgloss.Color("203")),
		Warn:    s().Foreground(lipgloss.Color("214")),
	}
}
