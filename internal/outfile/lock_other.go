//go:build !unix

package outfile

import "os"

// tryLock takes no lock: only Unix systems have flock.
func tryLock(*os.File) (bool, error) { return true, nil }
