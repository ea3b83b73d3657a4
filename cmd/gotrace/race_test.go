//go:build race

package main

// raceEnabled says the tests run under the race detector, which makes the
// code several times slower and its memory several times larger: tests of
// size and of whole large traces step aside for it.
const raceEnabled = true
