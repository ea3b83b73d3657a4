package report

import (
	"bufio"
	"io"
	"strings"

	"charm.land/lipgloss/v2"
	"charm.land/lipgloss/v2/table"
	"github.com/mattn/go-runewidth"
)

// A doc is what the stats and check reports say, computed once and drawn
// by each text mode: sections of key-value lines, tables and stacks.
type doc struct {
	title    string
	subtitle string
	warnings []string
	sections []section
}

type section struct {
	title  string
	blocks []block
}

// block is one of: a list of key-value pairs, a table, a stack, or a line
// of text.
type block struct {
	kv [][2]string
	// marks colours the values of kv on a terminal, by label: 2 bad, 3 a
	// warning (see tbl.status).
	marks map[string]int
	table *tbl
	stack *stackBlock
	text  string
}

type tbl struct {
	title string
	head  []string
	right []bool // right-align the column (numbers)
	rows  [][]string
	// status is a per-row marker: 0 none, 1 good, 2 bad, 3 a warning.
	status []int
	// statusCol is the column that status colours.
	statusCol int
	// n and at, when at is set, give the rows in place of rows: a table
	// too long to hold is read twice a row at a time, for the widths of
	// its columns, then for its lines, and written as it is read.
	n  int
	at func(i int) []string
}

func (t *tbl) len() int {
	if t.at != nil {
		return t.n
	}
	return len(t.rows)
}

func (t *tbl) rowAt(i int) []string {
	if t.at != nil {
		return t.at(i)
	}
	return t.rows[i]
}

type stackBlock struct {
	title  string
	frames [][2]string // function, file:line
}

func (s *section) kv(pairs ...[2]string) { s.blocks = append(s.blocks, block{kv: pairs}) }

// mark colours the value labelled label in the section's last key-value
// block: 2 bad, 3 a warning, 0 nothing.
func (s *section) mark(label string, level int) {
	for i := len(s.blocks) - 1; i >= 0; i-- {
		if b := &s.blocks[i]; b.kv != nil {
			if b.marks == nil {
				b.marks = make(map[string]int)
			}
			b.marks[label] = level
			return
		}
	}
}
func (s *section) add(t *tbl)          { s.blocks = append(s.blocks, block{table: t}) }
func (s *section) text(line string)    { s.blocks = append(s.blocks, block{text: line}) }
func (s *section) stack(b *stackBlock) { s.blocks = append(s.blocks, block{stack: b}) }
func pair(k, v string) [2]string       { return [2]string{k, v} }
func (t *tbl) row(cells ...string)     { t.rows = append(t.rows, cells) }

// render draws d in mode, writing as it goes. Width, when known, bounds
// the styled tables.
func (d *doc) render(w io.Writer, mode Mode, width int) error {
	b := bufio.NewWriterSize(w, 64<<10)
	switch mode {
	case Markdown:
		d.markdown(b)
	case Styled:
		d.styled(b, NewTheme(Styled), width)
	default:
		d.plain(b)
	}
	return b.Flush()
}

// --- plain: aligned columns, no colour, no box drawing ---

func (d *doc) plain(b *bufio.Writer) {
	b.WriteString(d.title + "\n")
	if d.subtitle != "" {
		b.WriteString(d.subtitle + "\n")
	}
	for _, w := range d.warnings {
		b.WriteString("warning: " + w + "\n")
	}
	for _, s := range d.sections {
		b.WriteString("\n" + strings.ToUpper(s.title) + "\n")
		for _, bl := range s.blocks {
			switch {
			case bl.kv != nil:
				kvLines(b, bl.kv, func(s string) string { return s }, func(s string) string { return s })
			case bl.table != nil:
				if bl.table.title != "" {
					b.WriteString("\n  " + bl.table.title + "\n")
				}
				alignTable(b, bl.table, nil)
			case bl.stack != nil:
				b.WriteString("\n  " + bl.stack.title + "\n")
				for _, f := range bl.stack.frames {
					b.WriteString("      " + f[0] + "\n        " + f[1] + "\n")
				}
			default:
				b.WriteString("  " + bl.text + "\n")
			}
		}
	}
}

func kvLines(b *bufio.Writer, kv [][2]string, key, val func(string) string) {
	kw := 0
	for _, p := range kv {
		kw = max(kw, runewidth.StringWidth(p[0]))
	}
	for _, p := range kv {
		b.WriteString("  " + key(p[0]) + strings.Repeat(" ", kw-runewidth.StringWidth(p[0])+2) + val(p[1]) + "\n")
	}
}

// widths returns the display width of each column.
func (t *tbl) widths() []int {
	w := make([]int, len(t.head))
	for i, h := range t.head {
		w[i] = runewidth.StringWidth(h)
	}
	for j := range t.len() {
		for i, c := range t.rowAt(j) {
			if i < len(w) {
				w[i] = max(w[i], runewidth.StringWidth(c))
			}
		}
	}
	return w
}

// alignTable writes t as space-aligned columns; style, when set, styles
// the header (row -1) and cells.
func alignTable(b *bufio.Writer, t *tbl, style func(row, col int, s string) string) {
	widths := t.widths()
	line := func(row int, cells []string) {
		var l strings.Builder
		l.WriteString("  ")
		for i, c := range cells {
			if i >= len(widths) {
				break
			}
			pad := strings.Repeat(" ", widths[i]-runewidth.StringWidth(c))
			if style != nil {
				c = style(row, i, c)
			}
			if i < len(t.right) && t.right[i] {
				l.WriteString(pad + c)
			} else if i == len(cells)-1 {
				l.WriteString(c)
			} else {
				l.WriteString(c + pad)
			}
			if i < len(cells)-1 {
				l.WriteString("  ")
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	line(-1, t.head)
	for i := range t.len() {
		line(i, t.rowAt(i))
	}
}

// --- styled: colour and rounded tables for a terminal ---

func (d *doc) styled(b *bufio.Writer, th Theme, width int) {
	b.WriteString(th.Title.Render(d.title) + "\n")
	if d.subtitle != "" {
		b.WriteString(th.Dim.Render(d.subtitle) + "\n")
	}
	for _, w := range d.warnings {
		b.WriteString(th.Warn.Render("warning: "+w) + "\n")
	}
	for _, s := range d.sections {
		b.WriteString("\n" + th.Heading.Render("▌ "+s.title) + "\n")
		for _, bl := range s.blocks {
			switch {
			case bl.kv != nil:
				marks := bl.marks
				var label string
				kvLines(b, bl.kv, func(s string) string { label = s; return th.Label.Render(s) }, func(s string) string {
					switch marks[label] {
					case 2:
						return th.Bad.Render(s)
					case 3:
						return th.Warn.Render(s)
					}
					return th.Value.Render(s)
				})
			case bl.table != nil:
				if bl.table.title != "" {
					b.WriteString("\n  " + th.Label.Render(bl.table.title) + "\n")
				}
				if bl.table.len() > styledChunk {
					styledTableChunked(b, bl.table, th, width)
					break
				}
				b.WriteString(indent(styledTable(bl.table, th, width), "  ") + "\n")
			case bl.stack != nil:
				b.WriteString("\n  " + th.Value.Render(bl.stack.title) + "\n")
				for _, f := range bl.stack.frames {
					b.WriteString("      " + th.Value.Render(f[0]) + "\n        " + th.Dim.Render(f[1]) + "\n")
				}
			default:
				b.WriteString("  " + th.Dim.Render(bl.text) + "\n")
			}
		}
	}
}

func styledTable(t *tbl, th Theme, width int) string {
	rows := make([][]string, t.len())
	for i := range rows {
		rows[i] = t.rowAt(i)
	}
	if width > 8 {
		// Cut the widest text column so the table fits the terminal.
		rows = fitRows(t, rows, width-4)
	}
	return newStyledTable(t, th, 0).Headers(t.head...).Rows(rows...).String()
}

// styledChunk is the most rows a styled table is drawn from at once.
const styledChunk = 1024

// styledTableChunked draws a long table as styledTable would, a chunk of
// rows at a time, each cell padded to its column's width over the whole
// table so every chunk's columns line up: the first chunk has the header
// and the top border, the last the bottom border, and the borders between
// chunks are left out.
func styledTableChunked(b *bufio.Writer, t *tbl, th Theme, width int) {
	widths := t.widths()
	wide, limit := -1, 0
	if width > 8 {
		wide, limit = fitLimit(t, widths, width-4)
		if wide >= 0 {
			widths[wide] = min(widths[wide], limit)
		}
	}
	n := t.len()
	for start := 0; start < n; start += styledChunk {
		end := min(start+styledChunk, n)
		rows := make([][]string, 0, end-start)
		for i := start; i < end; i++ {
			r := append([]string(nil), t.rowAt(i)...)
			for c := range r {
				if c >= len(widths) {
					break
				}
				if c == wide {
					r[c] = runewidth.Truncate(r[c], limit, "…")
				}
				pad := strings.Repeat(" ", max(widths[c]-runewidth.StringWidth(r[c]), 0))
				if c < len(t.right) && t.right[c] {
					r[c] = pad + r[c]
				} else {
					r[c] += pad
				}
			}
			rows = append(rows, r)
		}
		tb := newStyledTable(t, th, start).Rows(rows...)
		if start == 0 {
			tb = tb.Headers(t.head...)
		}
		lines := strings.Split(strings.TrimRight(tb.String(), "\n"), "\n")
		if start > 0 {
			lines = lines[1:]
		}
		if end < n {
			lines = lines[:len(lines)-1]
		}
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
	}
}

// newStyledTable is a rounded table in the theme's styles whose rows begin
// at row first of t.
func newStyledTable(t *tbl, th Theme, first int) *table.Table {
	return table.New().
		Border(lipgloss.RoundedBorder()).
		BorderStyle(th.Dim).
		StyleFunc(func(row, col int) lipgloss.Style {
			st := th.Value.Padding(0, 1)
			if row == table.HeaderRow {
				return th.Heading.Padding(0, 1)
			}
			if col < len(t.right) && t.right[col] {
				st = st.Align(lipgloss.Right)
			}
			if row >= 0 {
				row += first
			}
			if t.status != nil && col == t.statusCol && row >= 0 && row < len(t.status) {
				switch t.status[row] {
				case 1:
					st = th.Good.Padding(0, 1)
				case 2:
					st = th.Bad.Padding(0, 1)
				case 3:
					st = th.Warn.Padding(0, 1)
				}
			}
			return st
		})
}

// fitLimit returns the widest left-aligned column of a table whose columns
// are widths wide, and how wide it may be for the table to be at most
// width columns wide; wide is -1 when the table fits.
func fitLimit(t *tbl, widths []int, width int) (wide, limit int) {
	total := 1
	wide = -1
	for i, w := range widths {
		total += w + 3
		if !(i < len(t.right) && t.right[i]) && (wide < 0 || w > widths[wide]) {
			wide = i
		}
	}
	if total <= width || wide < 0 {
		return -1, 0
	}
	return wide, max(widths[wide]-(total-width), 12)
}

// fitRows shortens the widest left-aligned column of t's rows so the
// table is at most width columns wide.
func fitRows(t *tbl, rows [][]string, width int) [][]string {
	wide, limit := fitLimit(t, t.widths(), width)
	if wide < 0 {
		return rows
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = append([]string(nil), r...)
		if wide < len(r) {
			out[i][wide] = runewidth.Truncate(r[wide], limit, "…")
		}
	}
	return out
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pre + l
	}
	return strings.Join(lines, "\n")
}

// --- markdown: for pasting into a pull request ---

func (d *doc) markdown(b *bufio.Writer) {
	b.WriteString("# " + mdEscape(d.title) + "\n\n")
	if d.subtitle != "" {
		b.WriteString(mdEscape(d.subtitle) + "\n\n")
	}
	for _, w := range d.warnings {
		b.WriteString("> **Warning:** " + mdEscape(w) + "\n\n")
	}
	for _, s := range d.sections {
		b.WriteString("## " + mdEscape(s.title) + "\n\n")
		for _, bl := range s.blocks {
			switch {
			case bl.kv != nil:
				mdTable(b, &tbl{head: []string{"", ""}, rows: kvRows(bl.kv), right: []bool{false, true}}, true)
			case bl.table != nil:
				if bl.table.title != "" {
					b.WriteString("**" + mdEscape(bl.table.title) + "**\n\n")
				}
				mdTable(b, bl.table, false)
			case bl.stack != nil:
				b.WriteString("**" + mdEscape(bl.stack.title) + "**\n\n```\n")
				for _, f := range bl.stack.frames {
					b.WriteString(f[0] + "\n    " + f[1] + "\n")
				}
				b.WriteString("```\n\n")
			default:
				b.WriteString(mdEscape(bl.text) + "\n\n")
			}
		}
	}
}

func kvRows(kv [][2]string) [][]string {
	out := make([][]string, len(kv))
	for i, p := range kv {
		out[i] = []string{p[0], p[1]}
	}
	return out
}

func mdTable(b *bufio.Writer, t *tbl, boldKeys bool) {
	b.WriteString("|")
	for _, h := range t.head {
		b.WriteString(" " + mdEscape(h) + " |")
	}
	b.WriteString("\n|")
	for i := range t.head {
		if i < len(t.right) && t.right[i] {
			b.WriteString("--:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for j := range t.len() {
		b.WriteString("|")
		for i, c := range t.rowAt(j) {
			c = mdEscape(c)
			if boldKeys && i == 0 {
				c = "**" + c + "**"
			}
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

var mdReplacer = strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;")

func mdEscape(s string) string { return mdReplacer.Replace(s) }
