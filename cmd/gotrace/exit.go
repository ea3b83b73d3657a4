package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Exit statuses. They are decided here and nowhere else.
const (
	exitOK        = 0
	exitError     = 1   // the command failed: bad input, unreadable trace, build failure
	exitUsage     = 2   // the command line was wrong
	exitAssertion = 3   // gotrace check: an assertion did not hold; gotrace diff --fail-on: a regression
	exitInterrupt = 130 // interrupted by SIGINT
)

// usageError marks errors in how gotrace was invoked.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCodeError carries a status chosen by a command, with or without a
// message. A program run by gotrace record passes its own status this way.
type exitCodeError struct {
	code int
	err  error // nil: nothing to print
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

// silentExit returns an error that makes gotrace exit with code and print
// nothing more: the command already said what there was to say.
func silentExit(code int) error { return &exitCodeError{code: code} }

// exitCode maps an error from a command to the process's exit status.
func exitCode(err error) int {
	var ec *exitCodeError
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ec):
		return ec.code
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitInterrupt
	}
	return exitError
}

// errorLine renders err as the one line gotrace prints for it, or "" when
// there is nothing to print.
func errorLine(err error) string {
	var ec *exitCodeError
	if errors.As(err, &ec) && ec.err == nil {
		return ""
	}
	msg := strings.TrimSpace(err.Error())
	// One line: cobra and the OS sometimes add newlines.
	msg = strings.Join(strings.Fields(strings.ReplaceAll(msg, "\n", " ; ")), " ")
	return "gotrace: " + msg
}
