package report_test

import (
	"fmt"

	"github.com/gotrace-cli/gotrace/internal/report"
	"github.com/gotrace-cli/gotrace/internal/stats"
)

func ExampleFormatValue() {
	fmt.Println(report.FormatValue(4_250_000, stats.UnitNs))
	fmt.Println(report.FormatValue(512<<20, stats.UnitBytes))
	fmt.Println(report.FormatValue(0.8168, stats.UnitRatio))
	fmt.Println(report.FormatValue(1234567, stats.UnitCount))
	// Output:
	// 4.25ms
	// 512 MiB
	// 81.7%
	// 1,234,567
}
