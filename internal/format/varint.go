package format

// MaxVarintLen is the most bytes a uvarint of 64 bits takes.
const MaxVarintLen = 10

// AppendUvarint appends v in the LEB128 encoding the trace uses.
func AppendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// Uvarint decodes a uvarint from the start of b and returns it with the
// number of bytes read. n is 0 when b ends inside the number and negative
// when the number overflows 64 bits (-n bytes were read).
func Uvarint(b []byte) (v uint64, n int) {
	var s uint
	for i, c := range b {
		if i == MaxVarintLen {
			return 0, -(i + 1)
		}
		if c < 0x80 {
			if i == MaxVarintLen-1 && c > 1 {
				return 0, -(i + 1)
			}
			return v | uint64(c)<<s, i + 1
		}
		v |= uint64(c&0x7f) << s
		s += 7
	}
	return 0, 0
}

// AppendUvarintN appends v in exactly n bytes, padded with continuation
// bytes as the runtime pads the numbers it fills in later; n below what v
// needs (or above MaxVarintLen) gives the shortest encoding.
func AppendUvarintN(b []byte, v uint64, n int) []byte {
	if n > MaxVarintLen || len(AppendUvarint(nil, v)) >= n {
		return AppendUvarint(b, v)
	}
	for range n - 1 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
