package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as gotrace inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gotrace": func() { os.Exit(run(os.Args[1:], systemStreams())) },
	})
}

// goCache is the build cache scripts share with the test run: HOME is
// /no-home inside a script, where the go command's default would point.
func goCache() string {
	if c := os.Getenv("GOCACHE"); c != "" {
		return c
	}
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// TestScript runs the end-to-end scripts in testdata/script: each is a
// txtar archive of commands with their expected stdout, stderr and status.
// Scripts see the repository's testdata as $TESTDATA.
func TestScript(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("TESTDATA", wd+"/../../testdata")
			env.Setenv("GOCACHE", goCache())
			return nil
		},
		UpdateScripts: *updateGolden,
	})
}
