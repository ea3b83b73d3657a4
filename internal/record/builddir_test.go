//go:build unix

package record

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestAbandonedBuildDirs: a builder removes the build directories of
// gotrace processes that are gone, and no other: not those of processes
// that run, not one whose lock is held, not what is not a build
// directory. Its own is named with its PID and goes on Close.
func TestAbandonedBuildDirs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip(err)
	}
	dead := strconv.Itoa(gone.Process.Pid)
	if processRuns(gone.Process.Pid) {
		t.Skipf("pid %s was taken again at once", dead)
	}
	mk := func(name string) string {
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Join(dir, "0"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "0", "prog"), []byte("binary"), 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	abandoned := mk("gotrace-build-" + dead + "-123")
	held := mk("gotrace-build-" + dead + "-456")
	lock, ok := lockDir(held)
	if !ok {
		t.Fatal("cannot lock a directory")
	}
	defer lock.Close()
	running := mk("gotrace-build-" + strconv.Itoa(os.Getppid()) + "-789")
	others := []string{mk("gotrace-build-987654"), mk("gotrace-build-x-1"), mk("other-" + dead + "-1")}
	if err := os.WriteFile(filepath.Join(tmp, "gotrace-build-"+dead+"-9"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	b, err := NewBuilder(BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abandoned); err == nil {
		t.Errorf("%s is left: its process is gone", abandoned)
	}
	for _, dir := range append([]string{held, running, filepath.Join(tmp, "gotrace-build-"+dead+"-9")}, others...) {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("%s was removed: %v", dir, err)
		}
	}
	if want := "gotrace-build-" + strconv.Itoa(os.Getpid()) + "-"; !strings.HasPrefix(filepath.Base(b.tmp), want) || filepath.Dir(b.tmp) != tmp {
		t.Errorf("build directory %s, want %s...", b.tmp, filepath.Join(tmp, want))
	}
	// A builder in use is not another's to remove, whatever its PID says:
	// its lock is held.
	if l, ok := lockDir(b.tmp); ok {
		l.Close()
		t.Errorf("the builder's directory is not locked while in use")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.tmp); err == nil {
		t.Errorf("%s is left after Close", b.tmp)
	}
}
