package view

import (
	"testing"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
)

// TestParseKeysAsTyped holds each key ParseKeys takes to the key Bubble
// Tea's input decoder makes of the bytes an xterm sends for it, so that
// --keys presses what a person at the terminal would.
func TestParseKeysAsTyped(t *testing.T) {
	for _, c := range []struct{ name, typed string }{
		{"up", "\x1b[A"}, {"down", "\x1b[B"}, {"right", "\x1b[C"}, {"left", "\x1b[D"},
		{"shift+right", "\x1b[1;2C"}, {"shift+left", "\x1b[1;2D"},
		{"pgup", "\x1b[5~"}, {"pgdown", "\x1b[6~"}, {"home", "\x1b[H"}, {"end", "\x1b[F"},
		{"enter", "\r"}, {"esc", "\x1b"}, {"space", " "}, {"tab", "\t"},
		{"backspace", "\x7f"}, {"ctrl+c", "\x03"},
		{"q", "q"}, {"N", "N"}, {"+", "+"}, {"/", "/"}, {"?", "?"}, {"]", "]"},
	} {
		ks, err := ParseKeys(c.name)
		if err != nil || len(ks) != 1 {
			t.Errorf("%q: %v, %d keys", c.name, err, len(ks))
			continue
		}
		var d uv.EventDecoder
		n, ev := d.Decode([]byte(c.typed))
		typed, ok := ev.(uv.KeyPressEvent)
		if !ok || n != len(c.typed) {
			t.Errorf("%q: the decoder made %T of %d bytes of %q", c.name, ev, n, c.typed)
			continue
		}
		got, want := ks[0], tea.KeyPressMsg(typed)
		if got.String() != want.String() || got.Keystroke() != want.Keystroke() || got.Text != want.Text {
			t.Errorf("%q: ParseKeys gives %q (%q, text %q), typed %q (%q, text %q)",
				c.name, got.String(), got.Keystroke(), got.Text, want.String(), want.Keystroke(), want.Text)
		}
	}
}
