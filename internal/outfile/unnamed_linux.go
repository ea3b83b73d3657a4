package outfile

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// createUnnamed opens a file without a name in dir, for reading and
// writing. It reports false where the kernel or the file system has no
// such files (O_TMPFILE), or where /proc, which linkUnnamed needs, is not
// mounted.
func createUnnamed(dir string) (*os.File, bool) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		return nil, false
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false
	}
	return os.NewFile(uintptr(fd), dir), true
}

// linkUnnamed gives f, made by createUnnamed, the name path.
//
// N.B. Linking the descriptor itself (AT_EMPTY_PATH) needs a privilege;
// its /proc link, followed, does not.
func linkUnnamed(f *os.File, path string) error {
	proc := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	return unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
}
