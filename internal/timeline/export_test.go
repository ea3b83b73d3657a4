package timeline

// For the tests of package timeline_test, which can use timelinetest.
var (
	OrderedTimeline = orderedTimeline
	PartsTimeline   = partsTimeline
	DiffLines       = diff
)
