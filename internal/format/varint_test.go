package format

import "testing"

func TestAppendUvarintN(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 1 << 40, 1<<64 - 1} {
		for n := 1; n <= MaxVarintLen+1; n++ {
			b := AppendUvarintN(nil, v, n)
			got, m := Uvarint(b)
			if got != v || m != len(b) {
				t.Fatalf("AppendUvarintN(%d, %d) = %x: reads back %d in %d bytes", v, n, b, got, m)
			}
			if short := len(AppendUvarint(nil, v)); n >= short && n <= MaxVarintLen && len(b) != n {
				t.Errorf("AppendUvarintN(%d, %d) takes %d bytes", v, n, len(b))
			}
		}
	}
}
