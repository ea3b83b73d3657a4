package main

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gotrace-cli/gotrace/internal/export"
	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/pprof"
	"github.com/gotrace-cli/gotrace/internal/report"
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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		if m := negativeArg.FindStringSubmatch(err.Error()); m != nil {
			return usagef("%s: a negative value, read as a flag: instants, IDs and sizes are not negative (an argument that starts with - goes after --)", m[1])
		}
		return usageError{err}
	})
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
		newGoroutinesCmd(io, nil),
		newDiffCmd(io, nil),
		newGoroutineCmd(io, nil),
		newAtCmd(io, nil),
		newTasksCmd(io, nil),
		newWhyCmd(io, nil),
		newViewCmd(io, nil),
	)
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	root.InitDefaultCompletionCmd()
	completionCmds(root)
	completeFlagValues(root)
	root.Example = rootExamples(root)
	return root
}

// rootExamples is the first example of each command, in the order of a
// day's work with traces (commands not in that list follow): real
// invocations that TestHelpExamples runs with each command's own.
func rootExamples(root *cobra.Command) string {
	cmds := root.Commands()
	rank := func(c *cobra.Command) int {
		i := slices.Index([]string{"record", "decode", "stats", "check", "diff", "goroutines", "goroutine", "at", "tasks", "why", "view", "pprof", "export", "split"}, c.Name())
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
var traceCommands = map[string]bool{"decode": true, "stats": true, "check": true, "export": true, "pprof": false, "split": false, "goroutines": false, "why": false, "view": false}

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

// bashFallback replaces the cobra script's __PROG_init_completion, which
// calls _get_comp_words_by_ref from the bash-completion package: without
// the package, the words up to the cursor are taken from the line itself,
// split at blanks only, so --flag=value stays one word as with
// bash-completion's -n =:.
const bashFallback = `
# Without the bash-completion package there is no _get_comp_words_by_ref:
# take the words up to the cursor from the line, split at blanks only.
__%[1]s_init_completion()
{
    COMPREPLY=()
    if declare -F _get_comp_words_by_ref >/dev/null 2>&1; then
        _get_comp_words_by_ref "$@" cur prev words cword
        return
    fi
    local line=${COMP_LINE:0:COMP_POINT}
    read -r -a words <<< "$line"
    if [[ ${#words[@]} -eq 0 || $line == *[[:blank:]] ]]; then
        words+=("")
    fi
    cword=$(( ${#words[@]} - 1 ))
    cur=${words[cword]}
    prev=
    if (( cword > 0 )); then
        prev=${words[cword-1]}
    fi
}
`

// completionCmds makes gotrace completion bash work in a bash without
// the bash-completion package, and gotrace completion of a shell it does
// not know a usage error, as an unknown command is.
func completionCmds(root *cobra.Command) {
	if parent, _, err := root.Find([]string{"completion"}); err == nil && parent.Name() == "completion" {
		parent.Args = cobra.ArbitraryArgs
		parent.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("completion %q: want one of bash, zsh, fish, powershell", args[0])
			}
			return cmd.Help()
		}
	}
	comp, _, err := root.Find([]string{"completion", "bash"})
	if err != nil || comp.Name() != "bash" {
		return
	}
	comp.Long = strings.Replace(comp.Long, `This script depends on the 'bash-completion' package.
If it is not installed already, you can install it via your OS's package manager.`,
		`The script uses the bash-completion package when it is loaded, and
works in a bash without it too.`, 1)
	comp.RunE = func(cmd *cobra.Command, _ []string) error {
		noDesc, _ := cmd.Flags().GetBool("no-descriptions")
		var b bytes.Buffer
		if err := cmd.Root().GenBashCompletionV2(&b, !noDesc); err != nil {
			return err
		}
		fmt.Fprintf(&b, bashFallback, cmd.Root().Name())
		_, err := cmd.OutOrStdout().Write(b.Bytes())
		return err
	}
}

// flagValues are the values shell completion offers for flags, by command
// and flag; "*" is every command that has the flag.
var flagValues = map[string]map[string]func() []string{
	"stats": {"section": func() []string { return report.StatsSections }},
	"pprof": {"type": func() []string {
		var out []string
		for _, t := range pprof.Types() {
			out = append(out, string(t))
		}
		return out
	}},
	"export": {"format": func() []string { return []string{string(export.Perfetto), string(export.Chrome)} }},
	"decode": {"type": eventTypeList},
	"*":      {"goroutines": func() []string { return []string{"all", "user", "runtime"} }},
}

// completeFlagValues registers flagValues with cobra, for flags that have
// no completion of their own. A flag that takes a comma list completes
// the item after the last comma.
func completeFlagValues(root *cobra.Command) {
	for _, c := range root.Commands() {
		for _, cmdName := range []string{c.Name(), "*"} {
			for flag, values := range flagValues[cmdName] {
				fl := c.Flags().Lookup(flag)
				if fl == nil {
					continue
				}
				if _, ok := c.GetFlagCompletionFunc(flag); ok {
					continue
				}
				list := strings.HasSuffix(fl.Value.Type(), "Slice")
				_ = c.RegisterFlagCompletionFunc(flag, func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
					prefix := ""
					if i := strings.LastIndex(toComplete, ","); list && i >= 0 {
						prefix = toComplete[:i+1]
					}
					var out []string
					for _, v := range values() {
						if strings.HasPrefix(v, toComplete[len(prefix):]) {
							out = append(out, prefix+v)
						}
					}
					dir := cobra.ShellCompDirectiveNoFileComp
					if list {
						dir |= cobra.ShellCompDirectiveNoSpace
					}
					return out, dir
				})
			}
		}
	}
}

// eventTypeList is every event type name, as go tool trace -d=wire prints
// them, sorted.
func eventTypeList() []string {
	var names []string
	for _, v := range format.Versions() {
		for t := range 256 {
			if s := v.Spec(format.EventType(t)); s != nil && !slices.Contains(names, s.Name) {
				names = append(names, s.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// negativeArg is the flag parser's error for an argument that looks like a
// negative number or duration (at FILE -1ms).
var negativeArg = regexp.MustCompile(`^unknown shorthand flag: '[0-9.]' in (-[0-9.]\S*)$`)
