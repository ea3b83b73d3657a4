package stats

import (
	"math/bits"
	"slices"
)

// ExactSamples is how many values a distribution keeps verbatim. Up to this
// many, percentiles are exact; beyond it they come from a log-bucketed
// histogram whose buckets are 1/64 of a power of two wide, and the value
// reported is the bucket's midpoint, so it is within 0.8% of the true one.
const ExactSamples = 256

// mantBits is the number of mantissa bits that index a histogram bucket.
const mantBits = 6

// dist accumulates durations in bounded memory.
type dist struct {
	count, total, max int64
	exact             []int64  // the first ExactSamples values
	buckets           []uint64 // allocated once exact overflows
}

func (d *dist) add(v int64) {
	if v < 0 {
		v = 0
	}
	d.count++
	d.total += v
	d.max = max(d.max, v)
	if d.buckets == nil && len(d.exact) < ExactSamples {
		d.exact = append(d.exact, v)
		return
	}
	if d.buckets == nil {
		for _, x := range d.exact {
			d.bucket(x)
		}
		d.exact = nil
	}
	d.bucket(v)
}

func (d *dist) bucket(v int64) {
	i := bucketOf(uint64(v))
	if i >= len(d.buckets) {
		d.buckets = append(d.buckets, make([]uint64, i+1-len(d.buckets))...)
	}
	d.buckets[i]++
}

// bucketOf maps v to its bucket: values below 2^mantBits have a bucket each;
// above, each power of two is cut into 2^mantBits equal buckets.
func bucketOf(v uint64) int {
	if v < 1<<mantBits {
		return int(v)
	}
	e := bits.Len64(v) - 1 // v in [2^e, 2^(e+1))
	m := (v >> (e - mantBits)) & (1<<mantBits - 1)
	return (e-mantBits+1)<<mantBits + int(m)
}

// bucketRange returns the smallest value of bucket i and its width.
func bucketRange(i int) (lo, width uint64) {
	if i < 1<<mantBits {
		return uint64(i), 1
	}
	e := i>>mantBits + mantBits - 1
	m := uint64(i & (1<<mantBits - 1))
	width = 1 << (e - mantBits)
	return 1<<e + m*width, width
}

// merge adds o's values to d.
func (d *dist) merge(o *dist) {
	if o.buckets == nil {
		for _, v := range o.exact {
			d.add(v)
		}
		return
	}
	if d.buckets == nil {
		for _, x := range d.exact {
			d.bucket(x)
		}
		d.exact = nil
		if d.buckets == nil {
			d.buckets = []uint64{}
		}
	}
	if len(o.buckets) > len(d.buckets) {
		d.buckets = append(d.buckets, make([]uint64, len(o.buckets)-len(d.buckets))...)
	}
	for i, n := range o.buckets {
		d.buckets[i] += n
	}
	d.count += o.count
	d.total += o.total
	d.max = max(d.max, o.max)
}

// quantile returns the value at rank ceil(q*count) (nearest rank).
func (d *dist) quantile(q float64) int64 {
	if d.count == 0 {
		return 0
	}
	rank := int64(q*float64(d.count) + 0.999999999)
	rank = min(max(rank, 1), d.count)
	if d.buckets == nil {
		s := slices.Clone(d.exact)
		slices.Sort(s)
		return s[rank-1]
	}
	var seen int64
	for i, n := range d.buckets {
		seen += int64(n)
		if seen >= rank {
			lo, w := bucketRange(i)
			v := int64(lo + w/2)
			return min(v, d.max)
		}
	}
	return d.max
}

// summary returns the Dist for d.
func (d *dist) summary() Dist {
	if d.count == 0 {
		return Dist{}
	}
	out := Dist{Count: d.count, Total: Duration(d.total), Max: Duration(d.max)}
	if d.buckets == nil {
		s := slices.Clone(d.exact)
		slices.Sort(s)
		at := func(q float64) Duration {
			r := int64(q*float64(len(s)) + 0.999999999)
			return Duration(s[min(max(r, 1), int64(len(s)))-1])
		}
		out.P50, out.P90, out.P99 = at(0.50), at(0.90), at(0.99)
		return out
	}
	out.P50, out.P90, out.P99 = Duration(d.quantile(0.50)), Duration(d.quantile(0.90)), Duration(d.quantile(0.99))
	return out
}
