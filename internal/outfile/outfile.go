// Package outfile writes an output file so that its name never holds half
// of it: the data goes to a temporary file beside the destination, which
// Commit renames into place and Abort removes.
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
	tmp  string // the temporary name; "" when written in place
	n    int64
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
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &os.PathError{Op: "create", Path: path, Err: err}
	}
	return &File{path: path, f: f, tmp: f.Name()}, nil
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

// Write writes to the file.
func (o *File) Write(p []byte) (int, error) {
	n, err := o.f.Write(p)
	o.n += int64(n)
	return n, err
}

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
func (o *File) InPlace() bool { return o.tmp == "" }

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
	if !o.InPlace() {
		os.Remove(o.tmp)
	}
}
