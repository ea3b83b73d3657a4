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
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem() // a value or null
		}
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

// FillNil replaces every nil slice reachable from the struct v points to
// with an empty one, so JSON has [] where a list is empty, never null.
func FillNil(v any) { fillNil(reflect.ValueOf(v)) }

func fillNil(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			fillNil(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillNil(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			if v.CanSet() {
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			}
			return
		}
		for i := range v.Len() {
			fillNil(v.Index(i))
		}
	}
}
