// Package clocks holds the one rule of the Clock fields across authstack:
// a nil clock.PassiveClock is the real clock.
package clocks

import "k8s.io/utils/clock"

// Or is c, or the real clock when c is nil.
func Or(c clock.PassiveClock) clock.PassiveClock {
	if c == nil {
		return clock.RealClock{}
	}
	return c
}
