package stats

import (
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Units of numeric fields.
const (
	UnitNs    = "ns"    // nanoseconds
	UnitBytes = "B"     // bytes
	UnitCount = "count" // a number of things
	UnitRatio = "ratio" // a share between 0 and 1
	UnitPct   = "%"     // a percentage between 0 and 100
	UnitRate  = "1/s"   // per second
)

// Field is one numeric value of the model that check can assert on.
type Field struct {
	// Path is the dotted path: the JSON names from the root, with the
	// "_ns" suffix dropped (sched.latency.p99 for sched.latency.p99_ns).
	Path string
	// JSON is the dotted path of JSON names.
	JSON  string
	Unit  string
	Help  string
	index []int
}

var (
	fieldsOnce sync.Once
	fieldList  []Field
	fieldByKey map[string]int
)

// Fields returns every path check can assert on, in model order. Lists are
// not addressable: they hold a varying number of rows.
func Fields() []Field {
	fieldsOnce.Do(func() {
		walkFields(reflect.TypeFor[Model](), "", "", "", nil, &fieldList)
		fieldByKey = make(map[string]int, len(fieldList))
		for i, f := range fieldList {
			fieldByKey[f.Path] = i
		}
		// The JSON names reach a field too: gc.time_ns is gc.time.
		for i, f := range fieldList {
			if _, ok := fieldByKey[f.JSON]; !ok {
				fieldByKey[f.JSON] = i
			}
		}
	})
	return fieldList
}

func walkFields(t reflect.Type, path, jpath, help string, index []int, out *[]Field) {
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		idx := append(slices.Clone(index), i)
		p := join(path, strings.TrimSuffix(name, "_ns"))
		jp := join(jpath, name)
		h := sf.Tag.Get("help")
		switch sf.Type.Kind() {
		case reflect.Struct:
			// A Dist's fields say what they are of: they take its help.
			parent := ""
			if sf.Type == reflect.TypeFor[Dist]() {
				parent = h
			}
			walkFields(sf.Type, p, jp, parent, idx, out)
		case reflect.Int, reflect.Int64, reflect.Uint64, reflect.Float64:
			if sf.Tag.Get("unit") == "" {
				continue // identifiers such as a generation number
			}
			if help != "" {
				h += " of " + help
			}
			*out = append(*out, Field{Path: p, JSON: jp, Unit: sf.Tag.Get("unit"), Help: h, index: idx})
		}
	}
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "." + b
}

// Lookup returns the field named by path, or by its JSON path.
func Lookup(path string) (Field, bool) {
	Fields()
	i, ok := fieldByKey[path]
	if !ok {
		return Field{}, false
	}
	return fieldList[i], true
}

// Value returns f's value in m, in f's unit.
func (m *Model) Value(f Field) float64 {
	v := reflect.ValueOf(m).Elem().FieldByIndex(f.index)
	switch v.Kind() {
	case reflect.Int, reflect.Int64:
		return float64(v.Int())
	case reflect.Uint64:
		return float64(v.Uint())
	case reflect.Float64:
		return v.Float()
	}
	return 0
}

// Suggest returns the paths closest to path: those within a small edit
// distance, then those sharing its longest dotted prefix.
func Suggest(path string) []string {
	type cand struct {
		p string
		d int
	}
	var near []cand
	for _, f := range Fields() {
		if d := editDistance(path, f.Path); d <= max(2, len(path)/4) {
			near = append(near, cand{f.Path, d})
		}
	}
	slices.SortStableFunc(near, func(a, b cand) int { return a.d - b.d })
	var out []string
	for _, c := range near {
		out = append(out, c.p)
	}
	if len(out) > 0 {
		return out[:min(len(out), 5)]
	}
	// No close spelling: list the paths under the longest known prefix.
	parts := strings.Split(path, ".")
	for n := len(parts); n > 0; n-- {
		prefix := strings.Join(parts[:n], ".")
		for _, f := range Fields() {
			if f.Path == prefix || strings.HasPrefix(f.Path, prefix+".") || strings.HasPrefix(f.Path, prefix) && n == 1 {
				out = append(out, f.Path)
			}
		}
		if len(out) > 0 {
			return out[:min(len(out), 12)]
		}
	}
	return out
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
