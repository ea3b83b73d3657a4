package record

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSplitFlags(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"-race", []string{"-race"}},
		{" -tags  x\t-race ", []string{"-tags", "x", "-race"}},
		{`-ldflags '-s -w' -tags "a b"`, []string{"-ldflags", "-s -w", "-tags", "a b"}},
		{`-ldflags=-X=main.v='1 2'`, []string{"-ldflags=-X=main.v=1 2"}},
		{`''`, []string{""}},
	} {
		got, err := SplitFlags(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SplitFlags(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := SplitFlags(`-tags 'x`); err == nil {
		t.Error("an unterminated quote must be an error")
	}
}

func TestTestBinaryArgs(t *testing.T) {
	got := TestBinaryArgs([]string{"-run", "TestX", "-v", "--count=1", "-test.short", "-myflag", "x", "--", "-run"})
	want := []string{"-test.paniconexit0", "-test.timeout=10m0s", "-test.run", "TestX", "-test.v", "--test.count=1", "-test.short", "-myflag", "x", "-run"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWithLinkname(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{nil, []string{"-ldflags=-checklinkname=0"}},
		{[]string{"-race"}, []string{"-race", "-ldflags=-checklinkname=0"}},
		{[]string{"-ldflags", "-s -w", "-race"}, []string{"-ldflags=-checklinkname=0 -s -w", "-race"}},
		{[]string{"--ldflags=-X main.v=1"}, []string{"-ldflags=-checklinkname=0 -X main.v=1"}},
	} {
		if got := withLinkname(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("withLinkname(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{
		"example.com/cmd/server": "server",
		"example.com/tool/v2":    "tool",
		"v2":                     "v2",
		"main":                   "main",
	} {
		if got := programName(in); got != want {
			t.Errorf("programName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"prog.trace":     "prog.3.trace",
		"out/x.trace":    "out/x.3.trace",
		"capture":        "capture.3",
		"a.trace.backup": "a.trace.backup.3",
	} {
		if got := numbered(in, 3); got != want {
			t.Errorf("numbered(%q, 3) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]int{"go1.26.8": 26, "go1.27.3": 27, "devel go1.28-abc": 28, "weird": 0} {
		if got := goMinor(in); got != want {
			t.Errorf("goMinor(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestChildEnv(t *testing.T) {
	env := childEnv(RunOptions{
		Env:       []string{"HOME=/h", "GODEBUG=gctrace=1", envVar + "=stale"},
		AllocFree: true, CPU: true, Duration: 2 * time.Second,
	}, true)
	want := []string{"HOME=/h", "GODEBUG=gctrace=1,traceallocfree=1", envVar + "=data=3,ctl=4,file=5,cpu=1,duration=2000000000,flight=0"}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("got %q, want %q", env, want)
	}
	env = childEnv(RunOptions{Env: []string{"GODEBUG=x=1"}, Flight: time.Second}, false)
	if strings.Join(env, " ") != "GODEBUG=x=1 "+envVar+"=data=3,ctl=4,file=0,cpu=0,duration=0,flight=1000000000" {
		t.Errorf("got %q", env)
	}
}

func TestTraceURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://localhost:6060":                   "http://localhost:6060/debug/pprof/trace?seconds=1.5",
		"http://localhost:6060/":                  "http://localhost:6060/debug/pprof/trace?seconds=1.5",
		"https://h/admin/trace?token=x":           "https://h/admin/trace?seconds=1.5&token=x",
		"http://127.0.0.1:8080/debug/pprof/trace": "http://127.0.0.1:8080/debug/pprof/trace?seconds=1.5",
	} {
		got, err := TraceURL(in, 1500*time.Millisecond)
		if err != nil || got != want {
			t.Errorf("TraceURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"localhost:6060", "ftp://h", "http://"} {
		if _, err := TraceURL(bad, time.Second); err == nil {
			t.Errorf("TraceURL(%q) must fail", bad)
		}
	}
}

// TestShimCompiles checks the generated shim for both toolchain variants
// parses and names only _gotrace identifiers at package level.
func TestShimVariants(t *testing.T) {
	for _, flight := range []bool{false, true} {
		src, err := generateShim(shimParams{Package: "foo", Flight: flight})
		if err != nil {
			t.Fatal(err)
		}
		s := string(src)
		if !strings.Contains(s, "package foo\n") || strings.Contains(s, "FlightRecorder") != flight {
			t.Errorf("flight=%v: shim:\n%s", flight, s)
		}
		for _, line := range strings.Split(s, "\n") {
			for _, kw := range []string{"func ", "var ", "type "} {
				if strings.HasPrefix(line, kw) && !strings.HasPrefix(strings.TrimPrefix(strings.TrimPrefix(line, kw), "(r *_gotraceRec) "), "_gotrace") && !strings.HasPrefix(line, "func (") {
					t.Errorf("package-level name not prefixed: %s", line)
				}
			}
		}
	}
}

// TestOneLine: what the go command says goes into one line that says what
// is wrong, not its usage text or the last line of a hint.
func TestOneLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"flag provided but not defined: -bogus\nusage: go list [-f format] [-json] [-m] [list flags] [build flags] [packages]\nRun 'go help list' for details.\n",
			"flag provided but not defined: -bogus"},
		{"no required module provides package example.com/x; to add it:\n\tgo get example.com/x",
			"no required module provides package example.com/x; to add it: go get example.com/x"},
		{"go: downloading example.com/m v1.0.0\ngo: example.com/m@v1.0.0: invalid version\n",
			"example.com/m@v1.0.0: invalid version"},
		{"stat /src/missing: directory not found", "stat /src/missing: directory not found"},
	} {
		if got := oneLine(tc.in); got != tc.want {
			t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestGoFiles(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		test     bool
		want     []string
		err      string
	}{
		{patterns: []string{"./cmd/x"}},
		{patterns: []string{"main.go", "util.go"}, want: []string{"main.go", "util.go"}},
		{patterns: []string{"main.go", "./lib"}, err: "mixes .go files and packages"},
		{patterns: []string{"main.go"}, test: true, err: "--test records packages"},
	} {
		got, err := goFiles(tc.patterns, tc.test)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.patterns, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %q, %v; want %q", tc.patterns, got, err, tc.want)
		}
	}
	b := &Binary{Package: &Package{ImportPath: "command-line-arguments"}, files: []string{"cmd/tool/main.go", "cmd/tool/util.go"}}
	if b.Name() != "main" {
		t.Errorf("a program of files is named %q, want main, as go run names it", b.Name())
	}
}
