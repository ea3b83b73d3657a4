// Command stress writes a large, busy execution trace for benchmarks.
//
// It traces itself with runtime/trace while thousands of goroutines pass
// tokens around channel rings, contend on mutexes, sleep on timers, echo
// messages over loopback TCP, allocate enough garbage to keep the collector
// running, and annotate their work with tasks, regions and logs. CPU
// profiling runs at the same time so the trace carries CPU samples.
//
// The trace stops when the file reaches -size bytes or after -duration,
// whichever comes first, so the output size is set by the flag rather than
// by the speed of the machine.
//
//	go run ./testdata/progs/stress -o stress.trace -size 200000000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	out        string
	size       int64
	duration   time.Duration
	rings      int
	ringLen    int
	mutexers   int
	sleepers   int
	conns      int
	allocators int
	gcPercent  int
	idle       time.Duration
}

func main() {
	var c config
	flag.StringVar(&c.out, "o", "stress.trace", "write the trace to `file`")
	flag.Int64Var(&c.size, "size", 200<<20, "stop tracing once the trace reaches `bytes`")
	flag.DurationVar(&c.duration, "duration", time.Minute, "stop tracing after this long even if -size is not reached")
	flag.IntVar(&c.rings, "rings", 40, "channel rings")
	flag.IntVar(&c.ringLen, "ring-len", 50, "goroutines per channel ring")
	flag.IntVar(&c.mutexers, "mutexers", 200, "goroutines contending on shared mutexes")
	flag.IntVar(&c.sleepers, "sleepers", 500, "goroutines sleeping on timers")
	flag.IntVar(&c.conns, "conns", 16, "loopback TCP connections")
	flag.IntVar(&c.allocators, "allocators", 8, "goroutines allocating garbage")
	flag.IntVar(&c.gcPercent, "gc-percent", 25, "GOGC while tracing")
	flag.DurationVar(&c.idle, "idle", 0, "pause this long after each unit of work, for a small trace spanning several generations")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "stress:", err)
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

func run(c config) error {
	if c.size <= 0 || c.duration <= 0 {
		return errors.New("-size and -duration must be positive")
	}
	f, err := os.Create(c.out)
	if err != nil {
		return err
	}
	defer f.Close()
	cw := &countingWriter{w: f}

	debug.SetGCPercent(c.gcPercent)
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		return fmt.Errorf("cpu profile: %v", err)
	}
	if err := trace.Start(cw); err != nil {
		pprof.StopCPUProfile()
		return fmt.Errorf("trace: %v", err)
	}
	start := time.Now()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	ln, err := startWorkload(ctx, &wg, c)
	if err != nil {
		cancel()
		trace.Stop()
		pprof.StopCPUProfile()
		return err
	}

	// Poll the size often enough that the overshoot stays a few
	// generations' worth of buffers at most.
	tick := time.NewTicker(10 * time.Millisecond)
	deadline := time.After(c.duration)
wait:
	for {
		select {
		case <-tick.C:
			if cw.n.Load() >= c.size {
				break wait
			}
		case <-deadline:
			break wait
		}
	}
	tick.Stop()
	trace.Stop()
	pprof.StopCPUProfile()
	elapsed := time.Since(start)

	cancel()
	ln.Close()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		return errors.New("workload did not stop within 10s")
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "stress: wrote %d bytes to %s in %v\n", cw.n.Load(), c.out, elapsed.Round(time.Millisecond))
	return nil
}

// startWorkload starts every kind of worker; they all return when ctx ends.
// It returns the loopback listener so the caller can close it.
func startWorkload(ctx context.Context, wg *sync.WaitGroup, c config) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("loopback listener: %v", err)
	}
	idle = c.idle
	spawn := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	spawn(func() { echoServer(ctx, ln, wg) })
	for i := range c.conns {
		spawn(func() { echoClient(ctx, ln.Addr().String(), i) })
	}
	for i := range c.rings {
		startRing(ctx, spawn, i, c.ringLen)
	}
	var locks [8]struct {
		sync.Mutex
		m map[int]int
	}
	for i := range locks {
		locks[i].m = make(map[int]int)
	}
	for i := range c.mutexers {
		spawn(func() {
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for ctx.Err() == nil {
				l := &locks[r.IntN(len(locks))]
				l.Lock()
				for k := range 32 {
					l.m[r.IntN(1024)] += k
				}
				l.Unlock()
				if r.IntN(8) == 0 {
					runtime.Gosched()
				}
				pause(ctx)
			}
		})
	}
	for i := range c.sleepers {
		spawn(func() { sleeper(ctx, i) })
	}
	for i := range c.allocators {
		spawn(func() { allocator(ctx, i) })
	}
	spawn(func() { spawner(ctx) })
	return ln, nil
}

// idle is the pause after each unit of work; set once before any worker
// starts.
var idle time.Duration

// pause waits for idle unless ctx ends first.
func pause(ctx context.Context) {
	if idle <= 0 {
		return
	}
	t := time.NewTimer(idle)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// startRing links n goroutines by unbuffered channels and passes a few
// tokens round, each hop inside a traced region of a per-lap task.
func startRing(ctx context.Context, spawn func(func()), id, n int) {
	chans := make([]chan int, n)
	for i := range chans {
		chans[i] = make(chan int)
	}
	for i := range n {
		in, out := chans[i], chans[(i+1)%n]
		spawn(func() {
			for {
				var tok int
				select {
				case tok = <-in:
				case <-ctx.Done():
					return
				}
				if i == 0 && tok%16 == 0 {
					tctx, task := trace.NewTask(ctx, "ring.lap")
					trace.Log(tctx, "ring", strconv.Itoa(id))
					trace.WithRegion(tctx, "ring.hop", func() { tok = spin(tok) })
					task.End()
				} else {
					tok = spin(tok)
				}
				pause(ctx)
				select {
				case out <- tok + 1:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	// Three tokens per ring keep several of its goroutines runnable.
	spawn(func() {
		for k := range 3 {
			select {
			case chans[k*n/3] <- k:
			case <-ctx.Done():
				return
			}
		}
	})
}

// spin does a little CPU work so CPU samples land in user code.
func spin(x int) int {
	for i := range 200 {
		x = x*31 + i
	}
	return x & 0xffff
}

func sleeper(ctx context.Context, i int) {
	r := rand.New(rand.NewPCG(uint64(i), 2))
	t := time.NewTimer(time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		tctx, task := trace.NewTask(ctx, "sleeper.wake")
		trace.WithRegion(tctx, "sleeper.work", func() { _ = spin(i) })
		if r.IntN(4) == 0 {
			trace.Logf(tctx, "sleeper", "id=%d", i)
		}
		task.End()
		t.Reset(time.Duration(500+r.IntN(4500)) * time.Microsecond)
	}
}

// allocator keeps a bounded working set of pointer-rich garbage churning, so
// the collector runs often and assists show up.
func allocator(ctx context.Context, i int) {
	type node struct {
		next *node
		buf  []byte
	}
	r := rand.New(rand.NewPCG(uint64(i), 3))
	var keep [256]*node
	for n := 0; ctx.Err() == nil; n++ {
		var head *node
		for range 64 {
			head = &node{next: head, buf: make([]byte, 16+r.IntN(512))}
		}
		keep[r.IntN(len(keep))] = head
		if n%64 == 0 {
			runtime.Gosched()
		}
		pause(ctx)
	}
}

// spawner creates short-lived goroutines in bursts.
func spawner(ctx context.Context) {
	for ctx.Err() == nil {
		var wg sync.WaitGroup
		results := make(chan int, 64)
		for k := range 64 {
			wg.Add(1)
			go func() { defer wg.Done(); results <- spin(k) }()
		}
		wg.Wait()
		close(results)
		for range results {
		}
		pause(ctx)
		select {
		case <-time.After(200 * time.Microsecond):
		case <-ctx.Done():
		}
	}
}

// echoServer answers every connection by echoing lines back; it returns when
// the listener is closed.
func echoServer(ctx context.Context, ln net.Listener, wg *sync.WaitGroup) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			defer stop()
			buf := make([]byte, 4096)
			for {
				n, err := conn.Read(buf)
				if err != nil {
					return
				}
				if _, err := conn.Write(buf[:n]); err != nil {
					return
				}
			}
		}()
	}
}

func echoClient(ctx context.Context, addr string, i int) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	msg := make([]byte, 64+i*32)
	reply := make([]byte, len(msg))
	for ctx.Err() == nil {
		tctx, task := trace.NewTask(ctx, "echo.roundtrip")
		var err error
		trace.WithRegion(tctx, "echo.write", func() { _, err = conn.Write(msg) })
		if err == nil {
			trace.WithRegion(tctx, "echo.read", func() { _, err = io.ReadFull(conn, reply) })
		}
		task.End()
		if err != nil {
			return
		}
		pause(ctx)
	}
}
