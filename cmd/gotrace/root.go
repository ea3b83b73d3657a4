package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// run executes gotrace with args and returns the exit status.
func run(args []string, io *Streams) int {
	root := newRootCmd(io)
	root.SetArgs(args)
	err := root.Execute()
	if err != nil && strings.HasPrefix(err.Error(), "unknown command") {
		err = usageError{err}
	}
	if err != nil {
		if line := errorLine(err); line != "" {
			fmt.Fprintln(io.ErrOut, line)
		}
	}
	return exitCode(err)
}

func newRootCmd(io *Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "gotrace <command> [flags]",
		Short: "Record and read Go execution traces",
		Long: strings.TrimSpace(`
gotrace records an execution trace of a Go program in one command, reads the
trace's wire format generation by generation, and reports what the trace
holds as a terminal report for people and as JSON and exit codes for CI.`),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.CompletionOptions.HiddenDefaultCmd = false

	root.AddCommand(
		newVersionCmd(io),
		newDecodeCmd(io, nil),
		newPprofCmd(io, nil),
		newSplitCmd(io, nil),
		newExportCmd(io, nil),
		newRecordCmd(io, nil),
		newStatsCmd(io, nil),
		newCheckCmd(io, nil),
	)
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	root.Example = rootExamples(root)
	return root
}

// rootExamples is the first example of each command, in the order of a
// day's work with traces (commands not in that list follow): real
// invocations that TestHelpExamples runs with each command's own.
func rootExamples(root *cobra.Command) string {
	cmds := root.Commands()
	rank := func(c *cobra.Command) int {
		i := slices.Index([]string{"record", "decode", "stats", "check", "pprof", "export", "split"}, c.Name())
		if i < 0 {
			return len(cmds)
		}
		return i
	}
	slices.SortStableFunc(cmds, func(a, b *cobra.Command) int { return rank(a) - rank(b) })
	var lines []string
	for _, c := range cmds {
		if first, _, _ := strings.Cut(strings.TrimLeft(c.Example, "\n"), "\n"); first != "" {
			lines = append(lines, first)
		}
	}
	lines = append(lines, "  gotrace completion bash > ~/.local/share/bash-completion/completions/gotrace")
	return strings.Join(lines, "\n")
}

// traceCommands are the commands that read one trace FILE, with whether
// "-" (standard input) works for them.
var traceCommands = map[string]bool{"decode": true, "stats": true, "check": true, "export": true, "pprof": false, "split": false}

// wrapArgs marks argument-count errors as usage errors, recursively; for a
// command that reads a trace, the error says what it wants.
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		check := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				if msg := fileArgsError(cmd, args); msg != "" {
					return usagef("%s", msg)
				}
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// fileArgsError says what a command that reads a trace wants when it was
// given no file or more than one: "stats needs a trace file: gotrace stats
// FILE (or - for standard input)". It returns "" for other commands.
func fileArgsError(cmd *cobra.Command, args []string) string {
	stdin, ok := traceCommands[cmd.Name()]
	if !ok || !cmd.HasParent() || cmd.Parent().HasParent() {
		return ""
	}
	want := "gotrace " + cmd.Name() + " FILE"
	if stdin {
		want += " (or - for standard input)"
	}
	switch {
	case len(args) == 0:
		return fmt.Sprintf("%s needs a trace file: %s", cmd.Name(), want)
	case len(args) > 1:
		return fmt.Sprintf("%s reads one trace file, not %d (%s): %s", cmd.Name(), len(args), strings.Join(args, " "), want)
	}
	return ""
}
