// Package format holds the facts of the Go execution trace wire format
// (version 2, written by Go 1.22 and later) as data: the header, the
// versions, every event type with the names of its arguments, the
// experiments, the varint encoding, and an Encoder that writes traces.
//
// # Layout
//
// A trace is a 16-byte header, "go 1.NN trace" padded with NUL bytes, then a
// sequence of batches and nothing else. A batch starts with the byte
// EvEventBatch, or from Go 1.23 EvExperimentalBatch followed by one byte of
// experiment ID, then four uvarints (three for an experimental batch, whose
// length is the data length): the generation number, the thread (M) that
// wrote it (all ones when none did), a base timestamp, and the number of
// bytes of events that follow. Go 1.26 also writes a lone EvEndOfGeneration
// byte between generations.
//
// An event is one type byte and the uvarint arguments its EventSpec names.
// Timed events start with a timestamp delta from the previous event of the
// same batch (the first from the batch's base time). A stack table entry
// carries its ID and frame count, then four uvarints per frame: PC, function
// name string ID, file name string ID, line. A string table entry carries its
// ID, a uvarint length and the bytes.
//
// # Generations
//
// The runtime writes the trace in generations, each self-contained: batches
// carry their generation number, and each generation has its own string and
// stack tables (batches that start with EvStrings and EvStacks), its own
// CPU samples (EvCPUSamples), its own timestamp frequency (a batch holding
// EvFrequency, or from Go 1.25 an EvSync batch holding EvFrequency and
// EvClockSnapshot), and restates the state of every goroutine and P with
// EvGoStatus and EvProcStatus events. IDs in tables are only meaningful
// within their generation.
//
// # Experiments
//
// With GODEBUG=traceallocfree=1 the runtime writes AllocFree events (types
// above MaxEvent) in ordinary batches, and experimental batches whose data
// starts with a kind byte: AllocFreeTypesBatch holds the type table
// ({id, address, size, pointer bytes, name length, name}...) and
// AllocFreeInfoBatch the numbers needed to turn IDs into addresses.
//
// Go 1.11 to 1.21 wrote an older, different format (v1). This package only
// recognises its header.
package format
