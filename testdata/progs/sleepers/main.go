// Command sleepers is a busy service in miniature: thousands of idle
// connection goroutines that mostly sleep, a few goroutines that keep the
// CPUs busy, and short-lived request goroutines created all the time, each
// calling a pool of backends over channels and waiting on a timer once, as
// a handler waits on I/O. At each generation switch the runtime writes the
// status of every goroutine that did not run, and on loaded CPUs that takes
// long, so the generations of its trace overlap in time.
//
//	go run ./testdata/progs/sleepers [-g 4000] [-inflight 1000] [-d 2.5s] [OUT.trace]
//	go run ./testdata/progs/sleepers -size 295000000 -d 5m -cpu service.trace
//
// Requests are a closed loop: a new one starts when one ends, -inflight at
// a time, so with the sleepers about -g plus -inflight goroutines are alive
// at once, and the goroutines created follow the bytes traced rather than
// the machine's speed. With -size the trace stops when the file reaches
// that many bytes (or after -d, whichever comes first).
//
// Without a file it only does the work, for a tracer outside it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	sleepers int
	busy     int
	inflight int
	calls    int
	backends int
	d        time.Duration
	size     int64
	cpu      bool
}

func main() {
	var c config
	flag.IntVar(&c.sleepers, "g", 4000, "idle goroutines sleeping on timers")
	flag.IntVar(&c.busy, "busy", 4, "goroutines that keep the CPUs busy")
	flag.IntVar(&c.inflight, "inflight", 1000, "request goroutines alive at once")
	flag.IntVar(&c.calls, "calls", 70, "backend calls each request makes")
	flag.IntVar(&c.backends, "backends", 64, "backend goroutines serving the calls")
	flag.DurationVar(&c.d, "d", 2500*time.Millisecond, "how long to run (with -size, the longest)")
	flag.Int64Var(&c.size, "size", 0, "stop tracing once the trace reaches `bytes` (0: run for -d)")
	flag.BoolVar(&c.cpu, "cpu", false, "profile the CPU while tracing, so the trace carries CPU samples")
	flag.Parse()
	if flag.NArg() > 1 || c.d <= 0 || c.size < 0 || c.inflight < 1 || c.backends < 1 || c.calls < 0 || c.sleepers < 0 || c.busy < 0 {
		fmt.Fprintln(os.Stderr, "usage: sleepers [-g N] [-busy N] [-inflight N] [-calls N] [-backends N] [-d D] [-size BYTES] [-cpu] [OUT.trace]")
		os.Exit(2)
	}
	if err := run(c, flag.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "sleepers:", err)
		os.Exit(1)
	}
}

// countingWriter counts the bytes the tracer has written so far.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func run(c config, out string) error {
	if out == "" {
		if c.size > 0 {
			return errors.New("-size needs an output file")
		}
		s := start(c)
		time.Sleep(c.d)
		s.stop()
		return nil
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	cw := &countingWriter{w: f}
	if c.cpu {
		if err := pprof.StartCPUProfile(io.Discard); err != nil {
			return fmt.Errorf("cpu profile: %v", err)
		}
		defer pprof.StopCPUProfile()
	}
	if err := trace.Start(cw); err != nil {
		return err
	}
	began := time.Now()
	s := start(c)
	// Poll the size often enough that the overshoot stays a few buffers.
	tick := time.NewTicker(10 * time.Millisecond)
	deadline := time.After(c.d)
wait:
	for {
		select {
		case <-tick.C:
			if c.size > 0 && cw.n.Load() >= c.size {
				break wait
			}
		case <-deadline:
			break wait
		}
	}
	tick.Stop()
	trace.Stop()
	elapsed := time.Since(began)
	s.stop()
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "sleepers: wrote %d bytes to %s in %v; %d requests\n",
		cw.n.Load(), out, elapsed.Round(time.Millisecond), s.requests.Load())
	return nil
}

// service is the running workload.
type service struct {
	done     chan struct{}
	wg       sync.WaitGroup
	requests atomic.Int64 // request goroutines started
}

// call is one backend call: the reply comes on reply.
type call struct {
	arg   uint64
	reply chan uint64
}

func start(c config) *service {
	s := &service{done: make(chan struct{})}
	spawn := func(f func()) {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); f() }()
	}
	for i := range c.sleepers {
		every := time.Duration(20+i%500) * time.Millisecond
		spawn(func() { s.sleeper(every) })
	}
	for range c.busy {
		spawn(s.spin)
	}
	calls := make(chan call)
	for range c.backends {
		spawn(func() { s.backend(calls) })
	}
	spawn(func() { s.spawner(c, calls) })
	return s
}

// stop ends every goroutine and waits for them.
func (s *service) stop() {
	close(s.done)
	s.wg.Wait()
}

var sink atomic.Uint64

// sleeper wakes now and then, does a little work and sleeps again: an
// idle connection.
func (s *service) sleeper(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			sink.Add(work(200))
		}
	}
}

// spin keeps a CPU busy, yielding only when preempted.
func (s *service) spin() {
	for {
		select {
		case <-s.done:
			return
		default:
			sink.Add(work(100000))
		}
	}
}

// backend answers calls until the service stops.
func (s *service) backend(calls <-chan call) {
	for {
		select {
		case <-s.done:
			return
		case c := <-calls:
			c.reply <- work(300) + c.arg
		}
	}
}

// spawner keeps c.inflight requests running, starting a new goroutine for
// each as one ends.
func (s *service) spawner(c config, calls chan<- call) {
	var reqs sync.WaitGroup
	defer reqs.Wait()
	slots := make(chan struct{}, c.inflight)
	for {
		select {
		case <-s.done:
			return
		case slots <- struct{}{}:
			reqs.Add(1)
			s.requests.Add(1)
			go func() {
				defer func() { <-slots; reqs.Done() }()
				s.request(c.calls, calls)
			}()
		}
	}
}

// request handles one request: backend calls, with one wait on a timer in
// the middle, as a handler waits on I/O.
func (s *service) request(n int, calls chan<- call) {
	reply := make(chan uint64, 1)
	var acc uint64
	for i := range n {
		if i == n/2 {
			select {
			case <-s.done:
				return
			case <-time.After(time.Millisecond):
			}
		}
		select {
		case <-s.done:
			return
		case calls <- call{arg: uint64(i), reply: reply}:
		}
		acc += <-reply
		acc += work(100)
	}
	sink.Add(acc)
}

func work(n int) uint64 {
	x := uint64(1)
	for i := range n {
		x = x*6364136223846793005 + uint64(i)
	}
	return x
}
