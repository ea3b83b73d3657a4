package main

import (
	"errors"
	"fmt"
	"github.com/charmbracelet/colorprofile"
	"os"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"

	"github.com/gotrace-cli/gotrace/internal/timeline"
	"github.com/gotrace-cli/gotrace/internal/view"
)

type viewOptions struct {
	IO *Streams

	File  string
	Print bool
	Size  string
	Keys  string
}

func newViewCmd(io *Streams, runF func(*viewOptions) error) *cobra.Command {
	opts := &viewOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "view [flags] FILE",
		Short: "Show the trace as a timeline in the terminal",
		Long: strings.TrimSpace(`
view shows the trace as a timeline in the terminal: a time ruler, one lane
per P with the goroutine that ran on it (coloured by goroutine group), the
collector's mark phases and stopped worlds, the heap in use, then the
goroutines grouped by start function, each lane coloured by state: running,
runnable, in a system call, or blocked (by what: channel, mutex, network,
sleep, ...). Without colour (NO_COLOR) the states are told apart by glyph:
█ running, ▒ runnable, ▓ syscall, ─ blocked.

Zoom and pan with the keys or the mouse wheel, select a lane, open a group,
and a pane shows what the goroutine under the cursor was doing, where, and
who unblocked it (u jumps there). t lists the tasks slowest first, s the
numbers of the window on screen, / searches goroutines, g goes to a time,
? lists every key, q quits.

With --print, or when standard output is not a terminal, view prints one
screen (after --keys, if given) and exits: the screen as text, for a log
or a bug report.

A large trace opens at once: a first pass over the wire summarises each
generation, and only the generations in view are read in full.`),
		Example: `  gotrace view app.trace
  gotrace view --print --size 100x30 app.trace
  gotrace view --print --keys '+ + down down enter' app.trace`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			if runF != nil {
				return runF(opts)
			}
			return runView(opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Print, "print", false, "print one screen and exit (the default when standard output is not a terminal)")
	f.StringVar(&opts.Size, "size", "", "the screen's size as `WxH` for --print (default: the terminal's, or 80x24)")
	f.StringVar(&opts.Keys, "keys", "", "`KEYS` to press first, space-separated (Bubble Tea's names: down, enter, space, shift+right, ...; other words are typed)")
	return cmd
}

func runView(opts *viewOptions) error {
	w, h := 80, 24
	if opts.IO.Width > 0 {
		w = opts.IO.Width
	}
	if opts.Size != "" {
		var err error
		if w, h, err = parseScreen(opts.Size); err != nil {
			return err
		}
	}
	keys, err := view.ParseKeys(opts.Keys)
	if err != nil {
		return usagef("--keys: %v", err)
	}
	in, err := openTrace(opts.File)
	if err != nil {
		return err
	}
	defer in.Close()
	defer softMemoryLimit(opts.IO, viewMemoryLimit)()
	tr, err := view.OpenFile(in)
	var damage error
	switch {
	case tr != nil && err != nil:
		damage = fmt.Errorf("%w: %s: %v; the view held the complete generations before it", timeline.ErrDamaged, opts.File, err)
	case err != nil:
		return fmt.Errorf("%s: %w", opts.File, err)
	}
	profile := viewProfile(opts.IO)
	vo := view.Options{File: opts.File, Mono: opts.IO.NoColor, Profile: profile}
	if damage != nil {
		vo.Damage = damage.Error()
	}
	m := view.New(tr, vo)
	if opts.Print || !opts.IO.OutTTY {
		if !opts.IO.OutTTY || opts.IO.NoColor {
			vo.Mono = true
			m = view.New(tr, vo)
		}
		m.Send(tea.WindowSizeMsg{Width: w, Height: h})
		m.Settle()
		for _, k := range keys {
			m.Send(k)
		}
		if _, err := fmt.Fprintln(opts.IO.Out, m.Screen()); err != nil {
			return err
		}
		return damage
	}
	// N.B. Bubble Tea is told the colours the screens are drawn in, so
	// that it does not draw the first screen before it has found them.
	p := tea.NewProgram(m, tea.WithInput(opts.IO.In), tea.WithOutput(opts.IO.Out), tea.WithColorProfile(profile))
	go func() {
		for _, k := range keys {
			p.Send(k)
		}
	}()
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("%s: %w", opts.File, err)
	}
	return damage
}

// viewProfile is the colours of the terminal on Out, told by the
// environment alone (NO_COLOR, TERM, COLORTERM and whether Out is a
// terminal), never by asking the terminal, whose answer would be read
// from its input with the keys typed meanwhile.
func viewProfile(s *Streams) colorprofile.Profile {
	w, ok := s.Out.(*os.File)
	if !ok {
		return colorprofile.NoTTY
	}
	return colorprofile.Detect(w, os.Environ())
}

// parseScreen reads WxH.
func parseScreen(s string) (int, int, error) {
	ws, hs, ok := strings.Cut(s, "x")
	w, err1 := strconv.Atoi(ws)
	h, err2 := strconv.Atoi(hs)
	if !ok || err1 != nil || err2 != nil || w < 40 || h < 10 || w > 1000 || h > 1000 {
		return 0, 0, usagef("--size %q: want WIDTHxHEIGHT, at least 40x10, such as 100x30", s)
	}
	return w, h, nil
}
