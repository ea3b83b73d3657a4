// Package outfile writes an output file so that its name never holds half
// of it: the data goes to a temporary file beside the destination, which
// Commit renames into place and Abort removes.
//
// On Linux the temporary file has no name until Commit (O_TMPFILE), so a
// process killed outright (SIGKILL) leaves nothing behind; elsewhere, or on
// a file system without unnamed files, it is a hidden file named after the
// destination.
//
// A destination that exists and is not a regular file (/dev/null, a named
// pipe, a terminal) is written in place instead: renaming a file over it
// would replace the device or the pipe.
package outfile

import (
	"errors"
	"os"
	"path/filepath"
)

var errIsDir = errors.New("is a directory")

// File is an output file being written.
type File struct {
	path string // the destination
	f    *os.File
	tmp  string // the temporary name; "" when written in place or unnamed
	anon bool   // the file has no name until Commit links it
	n    int64
	werr error // the first error Write returned
	done bool
}

// Special reports whether path exists and is neither a regular file nor a
// directory: a device or a pipe, which is written in place.
func Special(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.Mode().IsRegular() && !fi.IsDir()
}

// Create starts writing path. Errors name path, not the temporary file.
func Create(path string) (*File, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, &os.PathError{Op: "create", Path: path, Err: errIsDir}
	}
	if Special(path) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return &File{path: path, f: f}, nil
	}
	if f, ok := unnamed(filepath.Dir(path)); ok {
		return &File{path: path, f: f, anon: true}, nil
	}
	f, err := createTemp(path)
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: path, Err: unwrapPath(err)}
	}
	return &File{path: path, f: f, tmp: f.Name()}, nil
}

// unnamed is createUnnamed; tests turn it off to test the named temporary
// file where unnamed ones work.
var unnamed = createUnnamed

// createTemp creates the hidden temporary file for path.
func createTemp(path string) (*os.File, error) {
	return os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
}

// Check finds out whether path can be written, leaving nothing behind. It
// opens no device or pipe: a reader at the other end would see its end.
func Check(path string) error {
	if Special(path) {
		return nil
	}
	f, err := Create(path)
	if err != nil {
		return err
	}
	f.Abort()
	return nil
}

// CheckDir finds out whether files can be created in dir, as Create
// creates them, leaving nothing behind.
func CheckDir(dir string) error {
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if !fi.IsDir() {
		return &os.PathError{Op: "create", Path: dir, Err: errors.New("not a directory")}
	}
	if f, ok := unnamed(dir); ok {
		f.Close()
		return nil
	}
	f, err := os.CreateTemp(dir, ".gotrace-check.*.tmp")
	if err != nil {
		return &os.PathError{Op: "create", Path: dir, Err: unwrapPath(err)}
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// Write writes to the file. An error names the destination, not the
// temporary file.
func (o *File) Write(p []byte) (int, error) {
	n, err := o.f.Write(p)
	o.n += int64(n)
	if err != nil {
		err = &os.PathError{Op: "write", Path: o.path, Err: unwrapPath(err)}
		if o.werr == nil {
			o.werr = err
		}
	}
	return n, err
}

// WriteErr is the first error Write returned, nil if none did: a copy that
// failed can tell a full disk from a source that broke off.
func (o *File) WriteErr() error { return o.werr }

// Len is how many bytes went through Write (and Truncate).
func (o *File) Len() int64 { return o.n }

// Handle is the open file, to hand to a process that writes it directly.
// Len then says nothing of what that process wrote: ask Size.
func (o *File) Handle() *os.File { return o.f }

// Size is the file's size as it is now, whoever wrote it.
func (o *File) Size() (int64, error) {
	fi, err := o.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// ReadAt reads what was written at off, without moving the file's offset
// (which a process writing it directly shares).
func (o *File) ReadAt(p []byte, off int64) (int, error) { return o.f.ReadAt(p, off) }

// Path is the destination.
func (o *File) Path() string { return o.path }

// InPlace reports whether the destination is written in place, as a device
// or a pipe is: it cannot be read back, and Abort leaves what was written.
func (o *File) InPlace() bool { return o.tmp == "" && !o.anon }

// Truncate cuts the file to size, which must be at most Len.
func (o *File) Truncate(size int64) error {
	if err := o.f.Truncate(size); err != nil {
		return err
	}
	if _, err := o.f.Seek(size, 0); err != nil {
		return err
	}
	o.n = size
	return nil
}

// ReadBack returns the file positioned at its start, to read back what was
// written; a file written in place cannot be.
func (o *File) ReadBack() (*os.File, error) {
	if o.InPlace() {
		return nil, errors.New(o.path + ": written in place, cannot be read back")
	}
	if _, err := o.f.Seek(0, 0); err != nil {
		return nil, err
	}
	return o.f, nil
}

// Commit finishes the file: it closes it and, unless it was written in
// place, makes it readable by all and renames it into place. After an error
// nothing is left under the temporary name.
func (o *File) Commit() error {
	if o.done {
		return nil
	}
	o.done = true
	if o.anon {
		err := o.f.Chmod(0o644)
		if err == nil {
			err = o.link()
		}
		if cerr := o.f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	err := o.f.Close()
	if o.InPlace() {
		return err
	}
	if err == nil {
		if err = os.Chmod(o.tmp, 0o644); err == nil {
			err = os.Rename(o.tmp, o.path)
		}
	}
	if err != nil {
		os.Remove(o.tmp)
	}
	return err
}

// Abort discards a file not committed: it closes it and removes the
// temporary file. It is safe after Commit, and does nothing then.
func (o *File) Abort() {
	if o.done {
		return
	}
	o.done = true
	o.f.Close()
	if o.tmp != "" {
		os.Remove(o.tmp)
	}
}

// link gives the unnamed file the destination's name: the file is linked
// under a temporary name, then renamed over the destination, as a named
// temporary file is. Only between the two steps can a kill leave a
// temporary name behind.
func (o *File) link() error {
	// N.B. A name from CreateTemp is one nobody else takes; it is
	// removed at once, so that the link can take it.
	t, err := createTemp(o.path)
	if err != nil {
		return &os.PathError{Op: "create", Path: o.path, Err: unwrapPath(err)}
	}
	tmp := t.Name()
	t.Close()
	os.Remove(tmp)
	if err := linkUnnamed(o.f, tmp); err != nil {
		return &os.PathError{Op: "link", Path: o.path, Err: err}
	}
	if err := os.Rename(tmp, o.path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// unwrapPath is err without the path an *os.PathError names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
