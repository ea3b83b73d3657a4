//go:build unix

package outfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestClaim: a destination claimed once cannot be claimed again until it
// is given up, the second claim names the holder, and nothing is left
// behind.
func TestClaim(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.trace")
	l, err := Claim(path)
	if err != nil {
		t.Fatal(err)
	}
	// N.B. flock locks belong to open files, so a second claim from this
	// process conflicts as one from another process would.
	_, err = Claim(path)
	var busy *BusyError
	if !errors.As(err, &busy) || busy.PID != os.Getpid() || busy.Path != path {
		t.Fatalf("second claim: %v, want a BusyError naming pid %d", err, os.Getpid())
	}
	if want := path + " is being written by another process (pid "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("message %q", err)
	}
	if other, err := Claim(filepath.Join(dir, "other.trace")); err != nil {
		t.Errorf("another destination in the same directory: %v", err)
	} else {
		other.Unlock()
	}
	l.Unlock()
	l.Unlock() // twice: nothing
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	again, err := Claim(path)
	if err != nil {
		t.Fatalf("claim after Unlock: %v", err)
	}
	again.Unlock()
}

// TestClaimStale: a lock file left by a process that was killed is not
// held by anyone, and is taken over.
func TestClaimStale(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.trace")
	if err := os.WriteFile(lockName(path), []byte("999999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Claim(path)
	if err != nil {
		t.Fatalf("a stale lock file: %v", err)
	}
	_, err = Claim(path)
	var busy *BusyError
	if !errors.As(err, &busy) || busy.PID != os.Getpid() {
		t.Errorf("the taken-over lock names %v, want pid %d", err, os.Getpid())
	}
	l.Unlock()
	if _, err := os.Stat(lockName(path)); err == nil {
		t.Error("the lock file is left after Unlock")
	}
}

// TestClaimErrors: a directory that is not there is an error naming the
// destination; a device is not claimed at all.
func TestClaimErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "out.trace")
	if _, err := Claim(path); err == nil || err.Error() != "lock "+path+": no such file or directory" {
		t.Errorf("Claim(%s): %v", path, err)
	}
	l, err := Claim(os.DevNull)
	if err != nil {
		t.Fatalf("Claim(%s): %v", os.DevNull, err)
	}
	l.Unlock()
	if _, err := os.Stat(lockName(os.DevNull)); err == nil {
		t.Errorf("a lock file was made beside %s", os.DevNull)
	}
}
