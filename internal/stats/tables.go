package stats

import "golang.org/x/exp/trace"

// denseMax bounds the IDs kept in the dense part of a table. The runtime
// hands out goroutine, thread and P IDs counting up from small numbers, so
// nearly every lookup is a slice index; larger IDs fall back to a map.
const denseMax = 1 << 20

// goTable maps goroutine IDs to their state. IDs below denseMax index
// pages of pageSize entries, made when first used: goroutine IDs only
// grow, and a part of a long trace sees few of the lower ones.
type goTable struct {
	pages  []*[pageSize]*goroutine
	sparse map[trace.GoID]*goroutine
}

const pageSize = 1 << 10

func (t *goTable) get(id trace.GoID) *goroutine {
	if id >= 0 && id < denseMax {
		if p := int(id / pageSize); p < len(t.pages) && t.pages[p] != nil {
			return t.pages[p][id%pageSize]
		}
		return nil
	}
	return t.sparse[id]
}

func (t *goTable) put(id trace.GoID, g *goroutine) {
	if id >= 0 && id < denseMax {
		p := int(id / pageSize)
		if p >= len(t.pages) {
			if g == nil {
				return
			}
			t.pages = append(t.pages, make([]*[pageSize]*goroutine, p+1-len(t.pages))...)
		}
		if t.pages[p] == nil {
			if g == nil {
				return
			}
			t.pages[p] = new([pageSize]*goroutine)
		}
		t.pages[p][id%pageSize] = g
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
	t.eachID(func(_ trace.GoID, g *goroutine) { f(g) })
}

// eachID calls f for every goroutine in the table, with its ID.
func (t *goTable) eachID(f func(trace.GoID, *goroutine)) {
	for p, page := range t.pages {
		if page == nil {
			continue
		}
		for i, g := range page {
			if g != nil {
				f(trace.GoID(p*pageSize+i), g)
			}
		}
	}
	for id, g := range t.sparse {
		f(id, g)
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

// merge adds the IDs of o.
func (s *idSet) merge(o *idSet) {
	for id, ok := range o.dense {
		if ok {
			s.add(int64(id))
		}
	}
	for id := range o.sparse {
		s.add(id)
	}
}
