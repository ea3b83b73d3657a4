package report

import (
	"testing"
	"time"
)

func TestSplitLine(t *testing.T) {
	for _, c := range []struct {
		p    SplitPart
		want string
	}{
		{SplitPart{Name: "p.001.trace", FirstGen: 1, LastGen: 1, Size: 10972 + 16, Start: 0, End: 1003955520 * time.Nanosecond},
			"p.001.trace\tgeneration 1\t10.7 KiB\t0-1.00s"},
		{SplitPart{Name: "p.002.trace", FirstGen: 2, LastGen: 3, Size: 181_449, Start: 1001449472, End: 95 * time.Second},
			"p.002.trace\tgenerations 2-3\t177 KiB\t1.00s-1m35s"},
		{SplitPart{Name: "p.003.trace", FirstGen: 4, LastGen: 4, Size: 900, Start: 1500 * time.Microsecond, End: 2 * time.Millisecond, Oversized: true},
			"p.003.trace\tgeneration 4\t900 B\t1.50ms-2.00ms\t(one generation, larger than --max-size)"},
	} {
		if got := SplitLine(c.p); got != c.want {
			t.Errorf("SplitLine(%+v)\n got %q\nwant %q", c.p, got, c.want)
		}
	}
}

func TestParts(t *testing.T) {
	for n, want := range map[int]string{0: "the 0 parts above hold", 1: "the 1 part above holds", 2: "the 2 parts above hold"} {
		if got := PartsAbove(n, "holds", "hold"); got != want {
			t.Errorf("PartsAbove(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Parts(1) + ", " + Parts(3); got != "1 part, 3 parts" {
		t.Errorf("Parts: %q", got)
	}
}
