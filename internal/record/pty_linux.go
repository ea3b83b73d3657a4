package record

import (
	"io"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// ptyRelay stands between the program and a terminal it writes to: the
// program writes into a pseudo-terminal, so it still sees a terminal, and
// what it writes is handed on to be written to the real one (see
// RunOptions.Relay).
type ptyRelay struct {
	term   *os.File // the real terminal
	master *os.File
	slave  *os.File // the program's end, closed here once it started
	relay  func(*os.File, []byte)
	done   chan struct{}
}

// newPTYRelay returns a relay for the first of the program's stdout and
// stderr that is a terminal; nil when neither is, or when there is no
// pseudo-terminal to be had.
func newPTYRelay(relay func(*os.File, []byte), streams ...io.Writer) *ptyRelay {
	if relay == nil {
		return nil
	}
	for _, s := range streams {
		f, ok := s.(*os.File)
		if !ok {
			continue
		}
		tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		if err != nil {
			continue // not a terminal
		}
		master, slave, err := openPTY()
		if err != nil {
			return nil
		}
		// N.B. The program's bytes must reach the terminal as it wrote
		// them, so the real terminal's output processing (\n to \r\n)
		// applies once, not twice: the pseudo-terminal passes them raw.
		tio.Oflag &^= unix.OPOST
		unix.IoctlSetTermios(int(slave.Fd()), unix.TCSETS, tio)
		r := &ptyRelay{term: f, master: master, slave: slave, relay: relay, done: make(chan struct{})}
		r.resize()
		return r
	}
	return nil
}

func openPTY() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}

// streams returns the program's stdout and stderr: the pseudo-terminal in
// place of each that is the relayed terminal.
func (r *ptyRelay) streams(stdout, stderr io.Writer) (io.Writer, io.Writer) {
	if r == nil {
		return stdout, stderr
	}
	swap := func(w io.Writer) io.Writer {
		if f, ok := w.(*os.File); ok && sameFile(f, r.term) {
			return r.slave
		}
		return w
	}
	return swap(stdout), swap(stderr)
}

func sameFile(a, b *os.File) bool {
	sa, errA := a.Stat()
	sb, errB := b.Stat()
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// start relays what the program writes until every holder of the
// pseudo-terminal's end (the program, and what it started) has closed it.
func (r *ptyRelay) start() {
	if r == nil {
		return
	}
	r.slave.Close()
	go func() {
		defer close(r.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := r.master.Read(buf)
			if n > 0 {
				r.relay(r.term, buf[:n])
			}
			if err != nil {
				return // EIO: no one holds the other end
			}
		}
	}()
}

// resize gives the pseudo-terminal the real one's size, as it is now.
func (r *ptyRelay) resize() {
	if r == nil {
		return
	}
	if ws, err := unix.IoctlGetWinsize(int(r.term.Fd()), unix.TIOCGWINSZ); err == nil {
		unix.IoctlSetWinsize(int(r.master.Fd()), unix.TIOCSWINSZ, ws)
	}
}

// wait returns once everything the program wrote is relayed, or after
// grace if something it started still holds the pseudo-terminal.
func (r *ptyRelay) wait(grace time.Duration) {
	if r == nil {
		return
	}
	select {
	case <-r.done:
	case <-time.After(grace):
	}
	r.master.Close()
}
