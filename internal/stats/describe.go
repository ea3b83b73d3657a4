package stats

import (
	"reflect"
	"strings"
)

// FieldDoc documents one JSON field of a schema.
type FieldDoc struct {
	Path string // JSON path, "[]" marking list elements: overview.footprint[].type
	Type string // string, integer, number, boolean, object, list
	Unit string
	Help string
}

// Describe documents every JSON field of v's type, in order, from the json,
// unit and help struct tags.
func Describe(v any) []FieldDoc {
	var out []FieldDoc
	describe(reflect.TypeOf(v), "", &out)
	return out
}

func describe(t reflect.Type, path string, out *[]FieldDoc) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		p := join(path, name)
		d := FieldDoc{Path: p, Unit: sf.Tag.Get("unit"), Help: sf.Tag.Get("help")}
		ft := sf.Type
		switch ft.Kind() {
		case reflect.Struct:
			d.Type = "object"
			*out = append(*out, d)
			describe(ft, p, out)
			continue
		case reflect.Slice:
			d.Type = "list"
			*out = append(*out, d)
			if ft.Elem().Kind() == reflect.Struct {
				describe(ft.Elem(), p+"[]", out)
			}
			continue
		case reflect.String:
			d.Type = "string"
		case reflect.Bool:
			d.Type = "boolean"
		case reflect.Float64:
			d.Type = "number"
		default:
			d.Type = "integer"
		}
		*out = append(*out, d)
	}
}
