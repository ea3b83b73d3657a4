package tables

import (
	"io"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// batchRows is how many rows a table builds before handing them to the
// Parquet writer, which encodes them into the open row group.
const batchRows = 512

// tableWriter writes one table's file: rows go into the open row group,
// and cut ends it.
type tableWriter struct {
	t      *Table
	w      *parquet.Writer
	labels []string // the label values, appended to every row
	id     string
	rows   []parquet.Row
	n      int   // rows in rows
	total  int64 // rows written
	open   bool  // the row group has rows
	err    error
}

func newTableWriter(out io.Writer, t *Table, id string, keys, values []string) *tableWriter {
	w := parquet.NewWriter(out, t.schema(keys),
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.CreatedBy("gotrace", Version, ""),
		parquet.KeyValueMetadata("gotrace.schema", Version),
		parquet.KeyValueMetadata("gotrace.table", t.Name))
	return &tableWriter{t: t, w: w, labels: values, id: id, rows: make([]parquet.Row, batchRows)}
}

// row starts a row, its trace ID in place; the caller adds the table's
// columns in order, then calls done.
func (tw *tableWriter) row() *rowBuilder {
	r := &tw.rows[tw.n]
	*r = (*r)[:0]
	b := rowBuilder{row: r}
	b.str(tw.id)
	return &b
}

// done adds the labels to the row begun last and keeps it.
func (tw *tableWriter) done(b *rowBuilder) {
	for _, v := range tw.labels {
		b.str(v)
	}
	tw.n++
	tw.open = true
	if tw.n == len(tw.rows) {
		tw.flushRows()
	}
}

func (tw *tableWriter) flushRows() {
	if tw.n == 0 {
		return
	}
	if tw.err == nil {
		_, tw.err = tw.w.WriteRows(tw.rows[:tw.n])
	}
	tw.total += int64(tw.n)
	tw.n = 0
}

// cut ends the open row group, if it has rows.
func (tw *tableWriter) cut() {
	tw.flushRows()
	if tw.open && tw.err == nil {
		tw.err = tw.w.Flush()
	}
	tw.open = false
}

// close writes what is left and the file's footer.
func (tw *tableWriter) close() error {
	tw.cut()
	if err := tw.w.Close(); tw.err == nil {
		tw.err = err
	}
	return tw.err
}

// rowBuilder appends the values of one flat row, column by column.
type rowBuilder struct {
	row *parquet.Row
	col int
}

func (b *rowBuilder) add(v parquet.Value, def int) {
	*b.row = append(*b.row, v.Level(0, def, b.col))
	b.col++
}

func (b *rowBuilder) i64(v int64) { b.add(parquet.Int64Value(v), 0) }
func (b *rowBuilder) boolean(v bool) {
	b.add(parquet.BooleanValue(v), 0)
}

// str adds s without copying it: the writer copies the bytes as it
// encodes the row, before s could go.
func (b *rowBuilder) str(s string) {
	b.add(parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s))), 0)
}

// nullable values: a definition level of 1 is a value, 0 a null.
func (b *rowBuilder) nullI64(v int64, ok bool) {
	if !ok {
		b.add(parquet.NullValue(), 0)
		return
	}
	b.add(parquet.Int64Value(v), 1)
}

func (b *rowBuilder) nullStr(s string, ok bool) {
	if !ok {
		b.add(parquet.NullValue(), 0)
		return
	}
	b.add(parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s))), 1)
}
