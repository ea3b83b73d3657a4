//go:build !linux

package decode

import (
	"errors"
	"os"
)

var pageSize = int64(os.Getpagesize())

// mapFile is not used here: Parallel reads the input.
func mapFile(f *os.File, off, size int64) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmapFile(m []byte) {}

func dropPages(m []byte, lo, hi int64) {}
