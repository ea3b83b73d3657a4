package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary act as gotrace inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gotrace": func() { os.Exit(run(os.Args[1:], systemStreams())) },
	})
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
			env.Setenv("GOCACHE", os.Getenv("GOCACHE"))
			return nil
		},
		UpdateScripts: *updateGolden,
	})
}
