package decode

import (
	"bytes"
	"path/filepath"
	"testing"
)

// TestPeerWire decodes every trace test of the Go tree and compares the
// event stream with go tool trace -d=wire, line for line. Their
// expectations are about semantics (goroutine states), not framing, so
// every one must decode completely.
func TestPeerWire(t *testing.T) {
	for _, file := range peerTests(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			data, _ := assembleTest(t, file)
			err := compareWire(t, name, data)
			// One test ends in the header of a batch whose bytes are
			// missing; go tool trace prints up to that header.
			if err != nil && !(name == "go122-fail-first-gen-first.test" && IsTruncated(err)) {
				t.Fatalf("%s: %v", name, err)
			}
		})
	}
}

var _ = bytes.NewReader
