//go:build !unix

package record

import "io"

// processRuns cannot tell here, so every process is taken to run and no
// directory is removed as abandoned.
func processRuns(int) bool { return true }

// lockDir takes no lock here.
func lockDir(string) (io.Closer, bool) { return nil, true }
