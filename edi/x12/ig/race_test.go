//go:build race

package ig_test

const raceEnabled = true
