package outfile

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestKilledLeavesNothing kills a process outright while it writes an
// output file: nothing of it is left in the directory.
func TestKilledLeavesNothing(t *testing.T) {
	if dir := os.Getenv("OUTFILE_TEST_WRITER"); dir != "" {
		f, err := Create(filepath.Join(dir, "out.trace"))
		if err != nil {
			os.Exit(2)
		}
		f.Write(make([]byte, 1<<20))
		os.Stdout.WriteString("writing\n")
		select {} // until killed
	}
	if f, ok := createUnnamed(t.TempDir()); !ok {
		t.Skip("no unnamed files here")
	} else {
		f.Close()
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledLeavesNothing$")
	cmd.Env = append(os.Environ(), "OUTFILE_TEST_WRITER="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "writing\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the writer said %q, %v", line, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind by a killed writer: %v", ents)
	}
}
