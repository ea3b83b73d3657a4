package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestDistExactWhenSmall(t *testing.T) {
	var d dist
	for v := int64(1); v <= 100; v++ {
		d.add(v)
	}
	s := d.summary()
	if s != (Dist{Count: 100, Total: 5050, P50: 50, P90: 90, P99: 99, Max: 100}) {
		t.Errorf("summary = %+v", s)
	}
}

// TestDistBoundedError checks the documented error of the histogram.
func TestDistBoundedError(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var d, half1, half2 dist
	var vals []int64
	for i := range 100000 {
		v := int64(math.Exp(r.Float64() * 25)) // 1ns to ~70s, log-uniform
		vals = append(vals, v)
		d.add(v)
		if i%2 == 0 {
			half1.add(v)
		} else {
			half2.add(v)
		}
	}
	half1.merge(&half2)
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99} {
		exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
		for _, dd := range []*dist{&d, &half1} {
			got := dd.quantile(q)
			if rel := math.Abs(float64(got-exact)) / float64(exact); rel > 0.008 {
				t.Errorf("p%v = %d, exact %d: error %.4f > 0.8%%", q*100, got, exact, rel)
			}
		}
	}
	if int64(d.summary().Max) != vals[len(vals)-1] || half1.count != d.count || half1.total != d.total {
		t.Error("max, count or total do not survive a merge")
	}
}

func TestBucketRange(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 40, math.MaxInt64} {
		lo, w := bucketRange(bucketOf(v))
		if v < lo || v-lo >= w {
			t.Errorf("value %d not in its bucket [%d, %d+%d)", v, lo, lo, w)
		}
	}
}
