package report

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gotrace-cli/gotrace/internal/stats"
)

// SplitPart is one part gotrace split wrote.
type SplitPart struct {
	Name              string // the part's file name
	FirstGen, LastGen uint64 // the generations inside
	Size              int64  // bytes, header included
	Start, End        time.Duration
	Oversized         bool // one generation, larger than --max-size
}

// SplitLine is gotrace split's line for p, tab-separated, in the units and
// rounding of the other reports: "part.001.trace	generation 1	10.7 KiB
// 0-1.00s".
func SplitLine(p SplitPart) string {
	gens := "generation " + strconv.FormatUint(p.FirstGen, 10)
	if p.LastGen != p.FirstGen {
		gens = fmt.Sprintf("generations %d-%d", p.FirstGen, p.LastGen)
	}
	line := fmt.Sprintf("%s\t%s\t%s\t%s-%s", p.Name, gens, stats.ByteCount(p.Size), stats.Duration(p.Start), stats.Duration(p.End))
	if p.Oversized {
		line += "\t(one generation, larger than --max-size)"
	}
	return line
}

// Parts counts parts: "1 part", "2 parts".
func Parts(n int) string { return strconv.Itoa(n) + plural(n, " part", " parts") }

// PartsAbove names the parts already printed as the subject of verb, in
// its singular and plural: "the 1 part above holds", "the 2 parts above
// hold".
func PartsAbove(n int, one, many string) string {
	return "the " + Parts(n) + " above " + plural(n, one, many)
}
