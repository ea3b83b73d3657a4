package main

import "testing"

const requestsTrace = "../../testdata/traces/requests.trace"

// TestDrillGolden pins each output mode of gotrace tasks and why for the
// committed trace of the requests program.
func TestDrillGolden(t *testing.T) {
	checkGoldens(t, []goldenCase{
		{"tasks.golden", false, []string{"tasks", "--top", "5", requestsTrace}, 0},
		{"tasks-markdown.golden", false, []string{"tasks", "--markdown", "--top", "5", requestsTrace}, 0},
		{"tasks-json.golden", false, []string{"tasks", "--json", "--top", "2", requestsTrace}, 0},
		{"tasks-id.golden", false, []string{"tasks", requestsTrace, "5"}, 0},
		{"tasks-id-styled.golden", true, []string{"tasks", requestsTrace, "5"}, 0},
		{"tasks-id-json.golden", false, []string{"tasks", "--json", requestsTrace, "5"}, 0},
		{"why-slowest.golden", false, []string{"why", "--slowest", "request", "--slowest-n", "5", requestsTrace}, 0},
		{"why-slowest-styled.golden", true, []string{"why", "--slowest", "request", "--slowest-n", "5", requestsTrace}, 0},
		{"why-slowest-markdown.golden", false, []string{"why", "--markdown", "--slowest", "request", "--slowest-n", "5", requestsTrace}, 0},
		{"why-task-json.golden", false, []string{"why", "--json", "--task", "5", requestsTrace}, 0},
		{"why-slowest-json.golden", false, []string{"why", "--json", "--slowest", "request", "--slowest-n", "3", "--top", "3", requestsTrace}, 0},
	})
}
