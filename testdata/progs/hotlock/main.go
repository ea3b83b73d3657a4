// Command hotlock is an HTTP server with a hot lock: its handler holds one
// global sync.Mutex while it computes, so the requests of 32 client
// goroutines queue on that lock. It listens on 127.0.0.1 (a port the
// system picks), hammers itself over keep-alive connections for -d, and
// stops by itself. The client's idle keep-alive connections are left open
// at the end (net/http keeps a read and a write goroutine for each).
//
//	gotrace record --cpu ./testdata/progs/hotlock -- -d 600ms
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const clients = 32

var (
	mu    sync.Mutex // guards total and every request's computation
	total uint64
)

// handle computes a checksum under the global lock: every request waits
// for all the ones before it.
func handle(w http.ResponseWriter, r *http.Request) {
	mu.Lock()
	sum := compute(r.URL.Path)
	total += sum
	mu.Unlock()
	fmt.Fprintf(w, "%d\n", sum)
}

// compute burns a few hundred microseconds of CPU.
func compute(seed string) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range []byte(seed) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	for i := range 250000 {
		h = (h ^ uint64(i)) * 1099511628211
	}
	return h
}

func main() {
	d := flag.Duration("d", 2*time.Second, "how long the clients send requests")
	flag.Parse()
	if err := run(*d); err != nil {
		fmt.Fprintln(os.Stderr, "hotlock:", err)
		os.Exit(1)
	}
}

func run(d time.Duration) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", handle)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)

	url := "http://" + ln.Addr().String() + "/"
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: clients},
		Timeout:   5 * time.Second,
	}
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	wg.Add(clients)
	for i := range clients {
		go hammer(&wg, client, url+strconv.Itoa(i), deadline)
	}
	wg.Wait()
	fmt.Printf("%d requests, %d failed, in %v\n", requests.Load(), failures.Load(), d)
	// The program ends here with the server still serving and the
	// client's idle keep-alive connections open.
	return nil
}

var requests, failures atomic.Int64

// hammer sends requests one after another until the deadline.
func hammer(wg *sync.WaitGroup, client *http.Client, url string, deadline time.Time) {
	defer wg.Done()
	for n := 0; n < 1_000_000 && time.Now().Before(deadline); n++ {
		if err := get(client, url); err != nil {
			failures.Add(1)
			continue
		}
		requests.Add(1)
	}
}

func get(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}
