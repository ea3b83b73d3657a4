package stats

import (
	"strconv"
	"time"
)

// Duration is a length of time in nanoseconds. It is a plain integer in
// JSON; String gives three significant digits.
type Duration int64

func (d Duration) String() string {
	ns := int64(d)
	switch {
	case ns == 0:
		return "0"
	case ns < 0:
		return "-" + Duration(-ns).String()
	case ns < 1e3:
		return strconv.FormatInt(ns, 10) + "ns"
	case ns < 1e6:
		return sig3(float64(ns)/1e3) + "µs"
	case ns < 1e9:
		return sig3(float64(ns)/1e6) + "ms"
	case ns < 60e9:
		return sig3(float64(ns)/1e9) + "s"
	}
	return time.Duration(ns).Round(time.Second).String()
}

// ByteCount is a size in bytes. It is a plain integer in JSON; String uses
// binary units with three significant digits.
type ByteCount int64

func (b ByteCount) String() string {
	n := int64(b)
	if n < 0 {
		return "-" + ByteCount(-n).String()
	}
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= 1024
		if v < 1024 || u == "TiB" {
			return sig3(v) + " " + u
		}
	}
	return ""
}

// sig3 formats v, at least 1, with three significant digits.
func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}
