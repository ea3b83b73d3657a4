package report

import (
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

// render draws d in mode. Width, when known, bounds the styled tables.
func (d *doc) render(w io.Writer, mode Mode, width int) error {
	var b strings.Builder
	switch mode {
	case Markdown:
		d.markdown(&b)
	case Styled:
		d.styled(&b, NewTheme(Styled), width)
	default:
		d.plain(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// --- plain: aligned columns, no colour, no box drawing ---

func (d *doc) plain(b *strings.Builder) {
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

func kvLines(b *strings.Builder, kv [][2]string, key, val func(string) string) {
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
	for _, r := range t.rows {
		for i, c := range r {
			if i < len(w) {
				w[i] = max(w[i], runewidth.StringWidth(c))
			}
		}
	}
	return w
}

// alignTable writes t as space-aligned columns; style, when set, styles
// the header (row -1) and cells.
func alignTable(b *strings.Builder, t *tbl, style func(row, col int, s string) string) {
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
	for i, r := range t.rows {
		line(i, r)
	}
}

// --- styled: colour and rounded tables for a terminal ---

func (d *doc) styled(b *strings.Builder, th Theme, width int) {
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
	rows := t.rows
	if width > 8 {
		// Cut the widest text column so the table fits the terminal.
		rows = fitRows(t, width-4)
	}
	tb := table.New().
		Border(lipgloss.RoundedBorder()).
		BorderStyle(th.Dim).
		Headers(t.head...).
		Rows(rows...).
		StyleFunc(func(row, col int) lipgloss.Style {
			st := th.Value.Padding(0, 1)
			if row == table.HeaderRow {
				return th.Heading.Padding(0, 1)
			}
			if col < len(t.right) && t.right[col] {
				st = st.Align(lipgloss.Right)
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
	return tb.String()
}

// fitRows shortens the widest left-aligned column so the table is at most
// width columns wide.
func fitRows(t *tbl, width int) [][]string {
	widths := t.widths()
	total := 1
	wide := -1
	for i, w := range widths {
		total += w + 3
		if !(i < len(t.right) && t.right[i]) && (wide < 0 || w > widths[wide]) {
			wide = i
		}
	}
	if total <= width || wide < 0 {
		return t.rows
	}
	limit := max(widths[wide]-(total-width), 12)
	out := make([][]string, len(t.rows))
	for i, r := range t.rows {
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

func (d *doc) markdown(b *strings.Builder) {
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

func mdTable(b *strings.Builder, t *tbl, boldKeys bool) {
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
	for _, r := range t.rows {
		b.WriteString("|")
		for i, c := range r {
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
