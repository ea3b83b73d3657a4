//go:build !linux

package outfile

import (
	"errors"
	"os"
)

// createUnnamed reports false: only Linux has unnamed files.
func createUnnamed(string) (*os.File, bool) { return nil, false }

func linkUnnamed(*os.File, string) error { return errors.ErrUnsupported }
