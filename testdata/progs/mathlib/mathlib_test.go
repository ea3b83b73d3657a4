package mathlib

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// TestMain is the package's own: recording its tests must not need one.
func TestMain(m *testing.M) {
	flag.Parse()
	fmt.Println("mathlib TestMain: running tests")
	os.Exit(m.Run())
}

func TestSumSquares(t *testing.T) {
	for _, workers := range []int{1, 4, 100} {
		if got, want := SumSquares(10, workers), 385; got != want {
			t.Errorf("SumSquares(10, %d) = %d, want %d", workers, got, want)
		}
	}
}

func TestFails(t *testing.T) {
	if os.Getenv("MATHLIB_FAIL") != "" {
		t.Fatal("failing as MATHLIB_FAIL asks")
	}
}
