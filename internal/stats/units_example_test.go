package stats_test

import (
	"fmt"

	"github.com/gotrace-cli/gotrace/internal/stats"
)

func ExampleDuration() {
	fmt.Println(stats.Duration(999), stats.Duration(1500), stats.Duration(123456789), stats.Duration(61e9))
	// Output: 999ns 1.50µs 123ms 1m1s
}

func ExampleByteCount() {
	fmt.Println(stats.ByteCount(1023), stats.ByteCount(1536), stats.ByteCount(7<<30))
	// Output: 1023 B 1.50 KiB 7.00 GiB
}
