package pprof

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	rpprof "runtime/pprof"
	"testing"
	"time"
)

func TestZZMem(t *testing.T) {
	path := os.Getenv("ZZTRACE")
	if path == "" {
		t.Skip()
	}
	debug.SetMemoryLimit(112 << 20)
	f, _ := os.Open(path)
	defer f.Close()
	stop := make(chan bool)
	var peak uint64
	go func() {
		s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > peak+2<<20 {
				peak = v
				out, _ := os.Create("/tmp/zzheap.prof")
				rpprof.WriteHeapProfile(out)
				out.Close()
			}
		}
	}()
	_, err := Build(context.Background(), f, Sched, Filter{})
	close(stop)
	t.Logf("peak live %d MB, err %v", peak>>20, err)
}
