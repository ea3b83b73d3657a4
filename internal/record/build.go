package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// BuildOptions say how to build the programs to record.
type BuildOptions struct {
	// Dir is where the go command runs: the pattern is resolved there and
	// its module's toolchain builds. "" means the current directory.
	Dir string
	// Env is the environment of the go command; nil means os.Environ().
	Env []string
	// BuildFlags go to go list and go build (or go test -c): -race,
	// -tags x, -ldflags ... (gotrace adds -checklinkname=0 to -ldflags).
	BuildFlags []string
	// Test builds test binaries (go test -c) instead of a command.
	Test bool
	// Stderr receives the go command's messages, the compiler's errors
	// among them. nil discards them.
	Stderr io.Writer
}

// Package is a package as go list describes it.
type Package struct {
	ImportPath   string
	Dir          string
	Name         string
	GoFiles      []string
	TestGoFiles  []string
	XTestGoFiles []string
	Error        *struct{ Err string }
}

// Binary is a program built with the shim in it, ready to Run.
type Binary struct {
	// Path is the executable; "" when Test is set and the package has
	// no test files, so there is nothing to run.
	Path string
	// Package is what was built.
	Package *Package
	// GoVersion is the toolchain that built it, e.g. "go1.26.8".
	GoVersion string
	// Test marks a test binary: it runs in the package's directory.
	Test bool
	// BuildErr is set, and Path is "", when one of several test packages
	// did not build; the others still did.
	BuildErr *BuildError

	flight bool     // the shim has the flight recorder
	files  []string // the .go files named instead of a package, as go run takes them
}

// Name is what the program is called: the last element of its import path,
// without a major-version suffix, as go build names it. Test binaries add
// ".test".
func (b *Binary) Name() string {
	name := programName(b.Package.ImportPath)
	if len(b.files) > 0 {
		// As go run names a program given as files: after the first.
		name = strings.TrimSuffix(filepath.Base(b.files[0]), ".go")
	}
	if b.Test {
		name += ".test"
	}
	return name
}

func programName(importPath string) string {
	name := path.Base(importPath)
	if ok, _ := regexp.MatchString(`^v[0-9]+$`, name); ok && path.Dir(importPath) != "." {
		name = path.Base(path.Dir(importPath))
	}
	return name
}

// Builder builds programs into a temporary directory that Close removes.
type Builder struct {
	opts BuildOptions
	tmp  string
	lock io.Closer // holds tmp while the builder is in use; nil if none
}

// buildDirPrefix names the builders' temporary directories,
// gotrace-build-PID-RANDOM, so that one a killed gotrace left behind can
// be told from one in use.
const buildDirPrefix = "gotrace-build-"

// NewBuilder returns a builder with its own temporary directory. It first
// removes the directories of builders whose gotrace was killed before it
// could remove its own.
func NewBuilder(opts BuildOptions) (*Builder, error) {
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	removeAbandoned(os.TempDir())
	tmp, err := os.MkdirTemp("", buildDirPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, err
	}
	lock, _ := lockDir(tmp)
	return &Builder{opts: opts, tmp: tmp, lock: lock}, nil
}

// Close removes everything the builder built.
func (b *Builder) Close() error {
	err := os.RemoveAll(b.tmp)
	if b.lock != nil {
		b.lock.Close()
		b.lock = nil
	}
	return err
}

// removeAbandoned removes the build directories in tmp whose gotrace is
// gone. A directory stays while its process runs, and while anyone holds
// its lock: a gotrace whose PID this one cannot see (another PID
// namespace sharing the directory) holds it all the same.
func removeAbandoned(tmp string) {
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), buildDirPrefix)
		pidText, _, dashed := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || !dashed || err != nil || pid <= 0 || !e.IsDir() || pid == os.Getpid() || processRuns(pid) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		lock, ok := lockDir(dir)
		if !ok {
			continue
		}
		os.RemoveAll(dir)
		if lock != nil {
			lock.Close()
		}
	}
}

// BuildError is a failed go build; the go command's messages have already
// gone to BuildOptions.Stderr.
type BuildError struct {
	Package string // pattern or import path being built
	Err     error  // the go command's exit status
}

func (e *BuildError) Error() string { return fmt.Sprintf("building %s failed: %v", e.Package, e.Err) }
func (e *BuildError) Unwrap() error { return e.Err }

// PackageError is a package that cannot be recorded: missing, broken, or
// not a command.
type PackageError struct {
	Package string
	Msg     string
}

func (e *PackageError) Error() string { return "package " + e.Package + ": " + e.Msg }

// Build builds the packages the patterns name ("." when there are none).
// Without Test they must name one main package, or be .go files of one
// directory as go run takes them; with Test they may name several
// packages, and each gets a test binary (Path is "" for those without test
// files, and for those that did not build, with BuildErr set).
func (b *Builder) Build(ctx context.Context, patterns ...string) ([]*Binary, error) {
	if len(patterns) == 0 {
		patterns = []string{"."}
	}
	files, err := goFiles(patterns, b.opts.Test)
	if err != nil {
		return nil, err
	}
	if err := b.checkFiles(files); err != nil {
		return nil, err
	}
	version, err := b.goVersion(ctx)
	if err != nil {
		return nil, err
	}
	minor := goMinor(version)
	if minor != 0 && minor < 23 {
		return nil, fmt.Errorf("gotrace record needs Go 1.23 or later to build the program; the toolchain here is %s", version)
	}
	pkgs, err := b.list(ctx, patterns)
	if err != nil {
		return nil, err
	}
	var bins []*Binary
	for i, p := range pkgs {
		bin := &Binary{Package: p, GoVersion: version, Test: b.opts.Test, flight: minor == 0 || minor >= 25, files: files}
		if b.opts.Test && len(p.TestGoFiles)+len(p.XTestGoFiles) == 0 {
			bins = append(bins, bin)
			continue
		}
		err := b.build(ctx, bin, i)
		var be *BuildError
		if b.opts.Test && len(pkgs) > 1 && errors.As(err, &be) {
			// As go test does: one package that does not build does not
			// stop the others.
			bin.Path, bin.BuildErr = "", be
			err = nil
		}
		if err != nil {
			return nil, err
		}
		bins = append(bins, bin)
	}
	return bins, nil
}

// goFiles returns the patterns when they are .go files, as go run takes
// them, and nil when they are packages.
func goFiles(patterns []string, test bool) ([]string, error) {
	n := 0
	for _, p := range patterns {
		if strings.HasSuffix(p, ".go") {
			n++
		}
	}
	switch {
	case n == 0:
		return nil, nil
	case test:
		return nil, &PackageError{Package: strings.Join(patterns, " "), Msg: "--test records packages: name the directory, not its .go files"}
	case n < len(patterns):
		return nil, &PackageError{Package: strings.Join(patterns, " "), Msg: "mixes .go files and packages; name one package, or the .go files of one"}
	}
	return patterns, nil
}

// checkFiles makes sure the .go files named are there: the go command
// would say "directory not found" of a missing one, naming a directory.
func (b *Builder) checkFiles(files []string) error {
	for _, f := range files {
		path := f
		if !filepath.IsAbs(path) {
			path = filepath.Join(b.opts.Dir, f)
		}
		fi, err := os.Stat(path)
		switch {
		case err != nil:
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("%s: %w", f, err)
		case fi.IsDir():
			return fmt.Errorf("%s: is a directory, not a .go file", f)
		}
	}
	return nil
}

// goVersion asks the go command which toolchain builds here. N.B. It runs
// where go build will run, because that directory's go.mod (toolchain and
// go lines) and GOTOOLCHAIN choose the compiler, and the shim must fit it.
func (b *Builder) goVersion(ctx context.Context) (string, error) {
	out, err := b.goCmd(ctx, "env", "GOVERSION")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

var minorRE = regexp.MustCompile(`go1\.([0-9]+)`)

// goMinor returns 26 for "go1.26.8"; 0 when it cannot tell (a development
// toolchain is taken to be new).
func goMinor(version string) int {
	m := minorRE.FindStringSubmatch(version)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func (b *Builder) list(ctx context.Context, patterns []string) ([]*Package, error) {
	pattern := strings.Join(patterns, " ")
	args := append([]string{"list", "-e", "-json=ImportPath,Dir,Name,GoFiles,TestGoFiles,XTestGoFiles,Error"}, b.opts.BuildFlags...)
	out, err := b.goCmd(ctx, append(append(args, "--"), patterns...)...)
	if err != nil {
		return nil, &PackageError{Package: pattern, Msg: err.Error()}
	}
	var pkgs []*Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		p := new(Package)
		if err := dec.Decode(p); err != nil {
			return nil, fmt.Errorf("reading go list output for %s: %w", pattern, err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		return nil, &PackageError{Package: pattern, Msg: "matched no packages"}
	}
	for _, p := range pkgs {
		if p.Error != nil {
			return nil, &PackageError{Package: pattern, Msg: oneLine(p.Error.Err)}
		}
	}
	if !b.opts.Test {
		if len(pkgs) > 1 {
			return nil, &PackageError{Package: pattern, Msg: fmt.Sprintf("matched %d packages; record runs one program (use --test to record the tests of several)", len(pkgs))}
		}
		if p := pkgs[0]; p.Name != "main" {
			return nil, &PackageError{Package: pattern, Msg: fmt.Sprintf("is package %s, not a main package; record runs commands (use --test to record its tests)", p.Name)}
		}
	}
	return pkgs, nil
}

// shimFile is the name the shim takes in the package's directory. N.B. It
// sorts before the package's own files, so its variable is initialised
// first and the trace starts before the program's own initialisation.
const shimFile = "0000_gotrace_record.go"

func (b *Builder) build(ctx context.Context, bin *Binary, i int) error {
	p := bin.Package
	for _, f := range append(append(p.GoFiles, p.TestGoFiles...), p.XTestGoFiles...) {
		if f == shimFile {
			return &PackageError{Package: p.ImportPath, Msg: "already has a file named " + shimFile}
		}
	}
	src, err := generateShim(shimParams{Package: p.Name, Flight: bin.flight})
	if err != nil {
		return err
	}
	dir := filepath.Join(b.tmp, strconv.Itoa(i))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	shim := filepath.Join(dir, "shim.go")
	if err := os.WriteFile(shim, src, 0o644); err != nil {
		return err
	}
	overlay, err := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(p.Dir, shimFile): shim},
	})
	if err != nil {
		return err
	}
	overlayFile := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		return err
	}
	bin.Path = filepath.Join(dir, bin.Name())
	args := []string{"build"}
	if bin.Test {
		args = []string{"test", "-c"}
	}
	args = append(args, "-overlay", overlayFile, "-o", bin.Path)
	args = append(args, withLinkname(b.opts.BuildFlags)...)
	if len(bin.files) > 0 {
		// N.B. Named files must all be spelled in one directory, so the
		// shim is named beside the first as given; the overlay knows it by
		// its absolute path, which the go command resolves it to.
		args = append(append(args, bin.files...), filepath.Join(filepath.Dir(bin.files[0]), shimFile))
	} else {
		args = append(args, p.ImportPath)
	}
	cmd := b.command(ctx, args...)
	cmd.Stdout = b.opts.Stderr
	cmd.Stderr = b.opts.Stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &BuildError{Package: p.ImportPath, Err: err}
	}
	return nil
}

// withLinkname returns the build flags with -checklinkname=0 added to the
// linker flags, which the shim's linkname to the runtime's exit hooks needs.
// A -ldflags the user gave keeps its value.
func withLinkname(flags []string) []string {
	const add = "-checklinkname=0"
	out := make([]string, 0, len(flags)+1)
	found := false
	for i := 0; i < len(flags); i++ {
		f := flags[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if name != "ldflags" || !strings.HasPrefix(f, "-") {
			out = append(out, f)
			continue
		}
		if !hasVal && i+1 < len(flags) {
			i++
			val = flags[i]
		}
		found = true
		out = append(out, "-ldflags="+add+" "+val)
	}
	if !found {
		out = append(out, "-ldflags="+add)
	}
	return out
}

func (b *Builder) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = b.opts.Dir
	cmd.Env = b.opts.Env
	return cmd
}

// goCmd runs the go command and returns its output; a failure is an error
// holding the last line the go command printed.
func (b *Builder) goCmd(ctx context.Context, args ...string) ([]byte, error) {
	cmd := b.command(ctx, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) && stderr.Len() > 0 {
			return nil, errors.New(oneLine(stderr.String()))
		}
		return nil, fmt.Errorf("go %s: %w", args[0], err)
	}
	return out, nil
}

// oneLine makes one line of what the go command said went wrong. It skips
// its progress (go: downloading ...) and its usage text, keeps the first
// line left, and joins a line ending in a colon with the one after it, as in
// "no required module provides package x; to add it: go get x".
func oneLine(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "",
			strings.HasPrefix(l, "go: downloading "),
			strings.HasPrefix(l, "go: finding "),
			strings.HasPrefix(l, "go: extracting "),
			strings.HasPrefix(l, "usage: "),
			strings.HasPrefix(l, "Run 'go help"):
			continue
		}
		lines = append(lines, strings.TrimPrefix(l, "go: "))
	}
	if len(lines) == 0 {
		return strings.TrimSpace(s)
	}
	msg := lines[0]
	if strings.HasSuffix(msg, ":") && len(lines) > 1 {
		msg += " " + lines[1]
	}
	return msg
}
