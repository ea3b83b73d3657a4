// Command exits is recorded by gotrace's tests: it does a little of
// everything a trace should show, then ends the way its first argument
// says, so every exit path of a traced program can be tested.
//
//	exits return          return from main
//	exits exit N          os.Exit(N)
//	exits fatal           log.Fatal
//	exits panic           an unrecovered panic
//	exits wait [N]        print "ready", wait for SIGINT or SIGTERM, say so, exit N
//	exits hang            print "ready PID", block until killed
//	exits parent SIG [N]  send SIG (INT, TERM) to the parent process, which is
//	                      gotrace, then behave as "wait N"
//	exits parent-die SIG  send SIG to the parent and wait, with no handler
//	exits snapshots FILE  send SIGUSR1 to the parent twice, waiting each time
//	                      for the snapshot FILE.N.trace to appear, then
//	                      SIGTERM, and exit 0 when it comes back
//	exits spin D          burn CPU for D, then return
//	exits tick D          keep busy for D (goroutines, timers), then return
package main

import (
	"fmt"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sink keeps allocations alive long enough to be traced.
var sink [][]byte

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: exits return|exit N|fatal|panic|wait [N]|hang|parent SIG [N]|parent-die SIG|snapshots FILE|spin D|tick D")
		os.Exit(2)
	}
	work()
	switch mode := os.Args[1]; mode {
	case "return":
		fmt.Println("returning from main")
		return
	case "exit":
		fmt.Println("calling os.Exit")
		os.Exit(atoi(arg(2, "3")))
	case "fatal":
		log.Fatal("log.Fatal called")
	case "panic":
		panic("exits: told to panic")
	case "wait":
		waitForSignal(atoi(arg(2, "0")))
	case "hang":
		fmt.Println("ready", os.Getpid())
		for {
			time.Sleep(time.Hour)
		}
	case "parent":
		c := notify()
		tellParent(arg(2, "INT"))
		shutdown(c, atoi(arg(3, "0")))
	case "parent-die":
		tellParent(arg(2, "INT"))
		for {
			time.Sleep(time.Hour)
		}
	case "snapshots":
		c := notify()
		base := strings.TrimSuffix(arg(2, "exits.trace"), ".trace")
		for n := 1; n <= 2; n++ {
			tellParent("USR1")
			waitForFile(fmt.Sprintf("%s.%d.trace", base, n))
		}
		tellParent("TERM")
		shutdown(c, 0)
	case "spin":
		spin(duration(arg(2, "300ms")))
	case "tick":
		tick(duration(arg(2, "1s")))
	default:
		fmt.Fprintf(os.Stderr, "exits: unknown mode %q\n", mode)
		os.Exit(2)
	}
}

// work starts 100 goroutines that allocate, and waits for them.
func work() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := make([]byte, 1024*(i+1))
			mu.Lock()
			sink = append(sink, b)
			mu.Unlock()
		}()
	}
	wg.Wait()
}

// waitForSignal is a program's own shutdown handling: it must still run
// when gotrace passes an interrupt on.
func waitForSignal(code int) {
	c := notify()
	fmt.Println("ready")
	shutdown(c, code)
}

func notify() chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	return c
}

func shutdown(c chan os.Signal, code int) {
	stop := make(chan struct{})
	go busy(stop)
	s := <-c
	close(stop)
	fmt.Printf("got %v, shutting down\n", s)
	os.Exit(code)
}

// tellParent signals the process that started this one.
func tellParent(name string) {
	sig := map[string]syscall.Signal{"INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1}[name]
	if sig == 0 {
		log.Fatalf("exits: unknown signal %q", name)
	}
	if err := syscall.Kill(os.Getppid(), sig); err != nil {
		log.Fatalf("exits: %v", err)
	}
}

func waitForFile(path string) {
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// busy keeps goroutines and timers going, so a flight recorder has
// something in its window.
func busy(stop <-chan struct{}) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			done := make(chan struct{})
			go func() { sink = append(sink[:0], make([]byte, 4096)); close(done) }()
			<-done
		}
	}
}

func spin(d time.Duration) {
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 1
			for time.Now().Before(end) {
				for i := range 100000 {
					x = x*31 + i
				}
			}
			fmt.Fprint(os.Stderr, x%2, "")
		}()
	}
	wg.Wait()
	fmt.Println()
}

func tick(d time.Duration) {
	stop := make(chan struct{})
	go busy(stop)
	time.Sleep(d)
	close(stop)
	fmt.Println("done")
}

func arg(i int, def string) string {
	if len(os.Args) > i {
		return os.Args[i]
	}
	return def
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		log.Fatalf("exits: %v", err)
	}
	return n
}

func duration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		log.Fatalf("exits: %v", err)
	}
	return d
}
