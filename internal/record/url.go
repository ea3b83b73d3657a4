package record

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gotrace-cli/gotrace/internal/format"
	"github.com/gotrace-cli/gotrace/internal/outfile"
)

// CaptureOptions say what to capture from a live server.
type CaptureOptions struct {
	// URL is the server's address, http://host:port, or the full URL of
	// its trace endpoint. Without a path, /debug/pprof/trace is used.
	URL string
	// Duration is how long the server traces.
	Duration time.Duration
	// Output is the trace file.
	Output string
	// Client makes the request; nil means a client whose timeout is the
	// duration plus a minute.
	Client *http.Client
	// Progress, when set, is called about every 250ms with the bytes
	// received so far.
	Progress func(Progress)
}

// TraceURL returns the URL that asks the server for a trace of d.
func TraceURL(base string, d time.Duration) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%q is not an http:// or https:// URL with a host", base)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/debug/pprof/trace"
	}
	q := u.Query()
	q.Set("seconds", strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Capture asks a server running net/http/pprof for a trace and writes it.
// A response that is not a trace is an error naming what came back.
func Capture(ctx context.Context, opts CaptureOptions) (*Trace, error) {
	if opts.Duration <= 0 {
		return nil, errors.New("capturing from a URL needs a duration")
	}
	target, err := TraceURL(opts.URL, opts.Duration)
	if err != nil {
		return nil, err
	}
	// N.B. Find out now, not after the server traced for the duration,
	// that the trace cannot be written where it should go.
	if err := outfile.Check(opts.Output); err != nil {
		return nil, fmt.Errorf("cannot write the trace: %w", err)
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: opts.Duration + time.Minute}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err // *url.Error names the method and the URL
	}
	defer resp.Body.Close()

	head := make([]byte, format.HeaderSize)
	n, rerr := io.ReadFull(resp.Body, head)
	head = head[:n]
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", target, resp.Status, describeBody(head, resp.Body))
	}
	if _, herr := format.ParseHeader(head); rerr != nil || herr != nil {
		return nil, fmt.Errorf("GET %s: the response is not a Go execution trace (Content-Type %q): %s",
			target, resp.Header.Get("Content-Type"), describeBody(head, resp.Body))
	}

	out, err := createOutput(opts.Output)
	if err != nil {
		return nil, err
	}
	if _, err := out.Write(head); err != nil {
		out.Abort()
		return nil, writeError(err)
	}
	var w io.Writer = out
	stopProgress := func() {}
	if opts.Progress != nil {
		c := &countingWriter{}
		w = io.MultiWriter(out, c)
		stopProgress = progressLoop(c, opts.Progress)
	}
	_, err = io.Copy(w, resp.Body)
	stopProgress()
	if err != nil {
		if werr := out.WriteErr(); werr != nil {
			out.Abort()
			return nil, writeError(werr)
		}
		if ctx.Err() != nil {
			out.Abort()
			return nil, ctx.Err()
		}
		// The connection dropped: keep what is complete.
		received := out.Len()
		kept, _, serr := out.salvage()
		if serr != nil {
			return nil, fmt.Errorf("GET %s: the response broke off after %d bytes (%v) and %w", target, received, err, serr)
		}
		return &Trace{Path: opts.Output, Size: kept, CutShort: true, Received: received}, nil
	}
	size := out.Len()
	if err := out.Commit(); err != nil {
		return nil, err
	}
	return &Trace{Path: opts.Output, Size: size}, nil
}

// describeBody quotes the first bytes of a response for an error message.
func describeBody(head []byte, rest io.Reader) string {
	const show = 64
	b := append([]byte(nil), head...)
	if len(b) < show {
		more := make([]byte, show-len(b))
		k, _ := io.ReadFull(rest, more)
		b = append(b, more[:k]...)
	}
	if len(b) == 0 {
		return "empty body"
	}
	return fmt.Sprintf("body starts with %q", b)
}

// countingWriter counts bytes for a progress line.
type countingWriter struct{ n atomic.Int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n.Add(int64(len(p)))
	return len(p), nil
}

// progressLoop reports c's count every 250ms until the returned function is
// called.
func progressLoop(c *countingWriter, report func(Progress)) (stop func()) {
	start := time.Now()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				report(Progress{Bytes: c.n.Load(), Elapsed: time.Since(start)})
			}
		}
	}()
	return func() { close(done); <-finished }
}
