package report

import (
	"math"
	"strconv"
	"testing"
)

func TestAppendUint(t *testing.T) {
	for _, v := range []uint64{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, 1 << 32, math.MaxUint64 - 1, math.MaxUint64} {
		if got, want := string(appendUint([]byte("x"), v)), "x"+strconv.FormatUint(v, 10); got != want {
			t.Errorf("appendUint(%d) = %q, want %q", v, got, want)
		}
	}
	for _, tc := range []struct {
		v     uint64
		width int
		want  string
	}{{0, 0, "0"}, {0, 3, "000"}, {0x1a2f, 6, "001a2f"}, {math.MaxUint64, 0, "ffffffffffffffff"}} {
		if got := string(appendHex(nil, tc.v, tc.width)); got != tc.want {
			t.Errorf("appendHex(%#x, %d) = %q, want %q", tc.v, tc.width, got, tc.want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"":              `""`,
		"plain":         `"plain"`,
		"say \"hi\"\\":  `"say \"hi\"\\"`,
		"tab\tnl\n\x01": `"tab\tnl\n\u0001"`,
		"☺":             `"☺"`,
		"bad\xffutf8":   `"bad\ufffdutf8"`,
	} {
		if got := string(appendJSONString(nil, in)); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDigits(t *testing.T) {
	for v := uint64(1); v != 0 && v < math.MaxUint64/3; v *= 3 {
		for _, x := range []uint64{v - 1, v, v + 1} {
			if got, want := digits(x), len(strconv.FormatUint(x, 10)); got != want {
				t.Fatalf("digits(%d) = %d, want %d", x, got, want)
			}
		}
	}
	if digits(math.MaxUint64) != 20 {
		t.Fatal("digits(MaxUint64) != 20")
	}
}
