package zz

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	gp "github.com/gotrace-cli/gotrace/internal/pprof"
)

func TestProf(t *testing.T) {
	f, _ := os.Open(os.Getenv("TR"))
	done := make(chan bool)
	go func() {
		var max uint64
		for {
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > max+20<<20 {
				max = ms.HeapInuse
				h, _ := os.Create("/tmp/heap.prof")
				pprof.WriteHeapProfile(h)
				h.Close()
				t.Logf("heap in use %d MB", max>>20)
			}
		}
	}()
	if _, err := gp.Build(context.Background(), f, gp.Sched, gp.Filter{}); err != nil {
		t.Fatal(err)
	}
	close(done)
}
