package stats

import "golang.org/x/exp/trace"

// denseMax bounds the IDs kept in the dense part of a table. The runtime
// hands out goroutine, thread and P IDs counting up from small numbers, so
// nearly every lookup is a slice index; larger IDs fall back to a map.
const denseMax = 1 << 20

// goTable maps goroutine IDs to their state.
type goTable struct {
	dense  []*goroutine
	sparse map[trace.GoID]*goroutine
}

func (t *goTable) get(id trace.GoID) *goroutine {
	if id >= 0 && id < denseMax {
		if int(id) < len(t.dense) {
			return t.dense[id]
		}
		return nil
	}
	return t.sparse[id]
}

func (t *goTable) put(id trace.GoID, g *goroutine) {
	if id >= 0 && id < denseMax {
		if int(id) >= len(t.dense) {
			n := max(int(id)+1, 2*len(t.dense), 64)
			t.dense = append(t.dense, make([]*goroutine, min(n, denseMax)-len(t.dense))...)
		}
		t.dense[id] = g
		return
	}
	if t.sparse == nil {
		t.sparse = make(map[trace.GoID]*goroutine)
	}
	if g == nil {
		delete(t.sparse, id)
		return
	}
	t.sparse[id] = g
}

// each calls f for every goroutine in the table.
func (t *goTable) each(f func(*goroutine)) {
	for _, g := range t.dense {
		if g != nil {
			f(g)
		}
	}
	for _, g := range t.sparse {
		f(g)
	}
}

// idSet counts distinct non-negative IDs.
type idSet struct {
	dense  []bool
	sparse map[int64]struct{}
	n      int
}

func (s *idSet) add(id int64) {
	if id < 0 {
		return
	}
	if id < denseMax {
		if int(id) >= len(s.dense) {
			s.dense = append(s.dense, make([]bool, int(id)+1-len(s.dense))...)
		}
		if !s.dense[id] {
			s.dense[id] = true
			s.n++
		}
		return
	}
	if s.sparse == nil {
		s.sparse = make(map[int64]struct{})
	}
	if _, ok := s.sparse[id]; !ok {
		s.sparse[id] = struct{}{}
		s.n++
	}
}
