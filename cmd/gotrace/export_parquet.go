package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/gotrace-cli/gotrace/internal/outfile"
	"github.com/gotrace-cli/gotrace/internal/tables"
)

// runExportParquet writes the tables of each trace into a directory of
// its own under opts.Output, named after the trace file, several traces at
// once on as many cores as there are.
func runExportParquet(opts *exportOptions) error {
	switch {
	case opts.Output == "" || opts.Output == "-":
		return usagef("--format parquet writes a directory of tables: give -o DIR")
	case opts.Gen != "" || opts.Time != "":
		return usagef("--format parquet exports whole traces: --gen and --time are for perfetto and chrome")
	}
	labels, err := parseLabels(opts.Labels)
	if err != nil {
		return err
	}
	dirs := make([]string, len(opts.Files))
	seen := make(map[string]string)
	for i, f := range opts.Files {
		if f == "-" {
			return usagef("--format parquet reads files, not stdin")
		}
		name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		if other, ok := seen[name]; ok {
			return usagef("%s and %s would both write %s: give traces of different names", other, f, filepath.Join(opts.Output, name))
		}
		seen[name] = f
		dirs[i] = filepath.Join(opts.Output, name)
	}
	if err := os.MkdirAll(opts.Output, 0o777); err != nil {
		return pathError(opts.Output, err)
	}
	ctx, stop := onInterrupt()
	defer stop()
	defer softMemoryLimit(opts.IO, timelineMemoryLimit)()

	// Each worker reads a trace at a time: memory follows the largest
	// generation of the traces being read, one per core.
	results := make([]parquetResult, len(opts.Files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(opts.Files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = exportTables(ctx, opts.Files[i], dirs[i], labels)
			}
		}()
	}
	for i := range opts.Files {
		next <- i
	}
	close(next)
	wg.Wait()
	if ctx.Err() != nil {
		return interrupted("the tables of the traces not finished were not written")
	}

	var errs []error
	for i, r := range results {
		if r.err == nil || r.damaged {
			var rows int64
			for _, n := range r.sum.Rows {
				rows += n
			}
			gens := "generations"
			if r.sum.Generations == 1 {
				gens = "generation"
			}
			if _, err := fmt.Fprintf(opts.IO.Out, "%s: %d rows in %d tables, %d %s\n", dirs[i], rows, len(r.sum.Rows), r.sum.Generations, gens); err != nil && r.err == nil {
				r.err = err
			}
		}
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	// N.B. Every failure gets its line; the last is the command's error.
	for _, err := range errs[:max(len(errs)-1, 0)] {
		fmt.Fprintf(opts.IO.ErrOut, "gotrace: %v\n", err)
	}
	if len(errs) > 0 {
		return errs[len(errs)-1]
	}
	return nil
}

type parquetResult struct {
	sum     tables.Summary
	err     error
	damaged bool // the tables hold the complete generations before err
}

// exportTables writes the tables of the trace in path into dir. The files
// appear whole or not at all; a damaged trace's appear, holding its
// complete generations.
func exportTables(ctx context.Context, path, dir string, labels []tables.Label) parquetResult {
	f, err := openTrace(path)
	if err != nil {
		return parquetResult{err: err}
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return parquetResult{err: pathError(path, err)}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return parquetResult{err: pathError(path, err)}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return parquetResult{err: pathError(dir, err)}
	}
	// N.B. Export closes the tables; the buffers are flushed here before
	// the files are committed.
	type file struct {
		o *outfile.File
		w *bufio.Writer
	}
	var files []file
	abort := func() {
		for _, f := range files {
			f.o.Abort()
		}
		os.Remove(dir) // N.B. only if empty: an earlier export's files stay
	}
	opts := tables.Options{File: path, SHA256: sum, ID: tables.TraceID(sum, filepath.Base(path), labels), Labels: labels, At: f,
		Create: func(table string) (io.Writer, error) {
			o, err := outfile.Create(filepath.Join(dir, table+".parquet"))
			if err != nil {
				return nil, err
			}
			files = append(files, file{o, bufio.NewWriterSize(o, 1<<16)})
			return files[len(files)-1].w, nil
		}}
	if size > bigTrace {
		opts.PageDir = dir
	}
	res, err := tables.Export(ctx, bufio.NewReaderSize(f, 1<<20), opts)
	if ctx.Err() != nil {
		abort()
		return parquetResult{err: ctx.Err()}
	}
	damaged := errors.Is(err, tables.ErrDamaged)
	if err != nil && !damaged {
		abort()
		return parquetResult{err: fmt.Errorf("%s: %w", path, describeDamage(path, err))}
	}
	for _, f := range files {
		if ferr := f.w.Flush(); ferr != nil {
			abort()
			return parquetResult{err: ferr}
		}
		if cerr := f.o.Commit(); cerr != nil {
			abort()
			return parquetResult{err: cerr}
		}
	}
	if damaged {
		msg := strings.TrimPrefix(describeDamage(path, err).Error(), tables.ErrDamaged.Error()+": ")
		return parquetResult{sum: res, damaged: true,
			err: fmt.Errorf("%s: %s; %s holds the tables of the complete generations before it", path, msg, dir)}
	}
	return parquetResult{sum: res}
}

// bigTrace is the size past which a trace's row groups wait in temporary
// files: a big generation's pages, compressed, are tens of megabytes, and
// a small trace's would only make thousands of tiny files.
const bigTrace = 32 << 20

// parseLabels parses --label KEY=VALUE flags.
func parseLabels(flags []string) ([]tables.Label, error) {
	var out []tables.Label
	seen := make(map[string]bool)
	for _, s := range flags {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, usagef("--label %q: want KEY=VALUE", s)
		}
		if err := tables.CheckLabel(k); err != nil {
			return nil, usagef("--label %q: %v", s, err)
		}
		if seen[strings.ToLower(k)] {
			return nil, usagef("--label %q: %s given twice", s, k)
		}
		seen[strings.ToLower(k)] = true
		out = append(out, tables.Label{Key: k, Value: v})
	}
	return out, nil
}
