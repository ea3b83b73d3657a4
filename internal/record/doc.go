// Package record runs a Go program with the execution tracer linked in and
// writes its trace to a file that is complete whatever way the program ends.
//
// # How a program is recorded
//
// Build compiles the package with a generated file, the shim, added to it
// through go build -overlay: the module's files are never touched and the
// shim uses the standard library only. The shim starts runtime/trace while
// the package's variables are initialised and writes the trace into a
// temporary file gotrace opened beside the destination and handed over, as
// runtime/trace.Start(file) in its own main would. It registers a runtime
// exit hook (internal/runtime/exithook, reached with a linkname, which is
// why the build passes -ldflags=-checklinkname=0), so the tracer is stopped
// and flushed when main returns and when anything calls os.Exit, log.Fatal
// included.
//
// # The pipes
//
// The child inherits two pipes, and the trace file (fd 5) when the trace
// streams into one regular file. On the data pipe (fd 3) the shim writes
// frames: one kind byte, a uvarint length, that many bytes. Trace bytes come
// as frames only without the file: flight recorder snapshots, one file
// each, and a destination that is a device or a pipe.
//
//	'd'  trace bytes for the current file
//	'e'  the current file is complete (the tracer was stopped, or a flight
//	     recorder snapshot was written in full)
//	'x'  the shim could not trace; the payload says why
//	'w'  writing the trace file failed (a full disk); the payload says why,
//	     and no file is kept
//	'f'  the tracer is stopped for good: no more frames follow
//
// On the control pipe (fd 4) gotrace writes single bytes: 'q' stops the
// tracer and flushes it (sent on an interrupt, before the signal is passed
// on), 's' writes a flight recorder snapshot. The shim learns the
// descriptors and its settings from the GOTRACE_RECORD environment
// variable, which it removes before the program's main runs.
//
// A stream that ends without an 'e' frame was cut short (a panic, SIGKILL):
// the decoder finds the last complete generation and the file is truncated
// to it. gotrace renames a file into place only once it is complete.
package record
