//go:build linux

package decode

import (
	"os"
	"syscall"
)

// pageSize is the unit of mappings and of the pages dropPages releases.
var pageSize = int64(os.Getpagesize())

// mapFile maps size bytes of f from offset off (a multiple of pageSize)
// read-only.
func mapFile(f *os.File, off, size int64) ([]byte, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, syscall.EINVAL
	}
	return syscall.Mmap(int(f.Fd()), off, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
}

// unmapFile undoes mapFile.
func unmapFile(m []byte) { _ = syscall.Munmap(m) }

// dropPages tells the kernel that m[lo:hi] is not needed for now: the
// pages holding it leave the process's resident set (the page cache keeps
// them) and come back with the same bytes on the next touch, so a page
// that a neighbouring range shares may go too.
func dropPages(m []byte, lo, hi int64) {
	if lo >= hi {
		return
	}
	lo &^= pageSize - 1
	hi = min((hi+pageSize-1)&^(pageSize-1), int64(len(m)))
	_ = syscall.Madvise(m[lo:hi], syscall.MADV_DONTNEED)
}
