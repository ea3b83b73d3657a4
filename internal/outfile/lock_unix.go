//go:build unix

package outfile

import (
	"os"
	"syscall"
)

// tryLock takes an exclusive lock on f without waiting; false when another
// open file holds one.
func tryLock(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == syscall.EWOULDBLOCK {
		return false, nil
	}
	return err == nil, err
}
