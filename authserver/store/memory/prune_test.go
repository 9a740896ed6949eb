package memory

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Counters of keys never seen again are dropped once expired, and a
// forgiven attempt leaves nothing: memory follows the live keys.
func TestThrottleCountersArePruned(t *testing.T) {
	s := New()
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	if _, err := s.AddAttempt(ctx, "ok", time.Minute, now); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveAttempt(ctx, "ok", time.Minute, now); err != nil {
		t.Fatal(err)
	}
	if n := s.attemptKeys(); n != 0 {
		t.Fatalf("%d keys after a forgiven attempt", n)
	}
	for i := 0; i < 10*minSweep; i++ {
		if _, err := s.AddAttempt(ctx, fmt.Sprint("spray-", i), time.Minute, now.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// Only keys of the last two one-minute windows can be live: 120 of them.
	if n := s.attemptKeys(); n > 2*minSweep {
		t.Fatalf("%d counter keys held after %d one-off keys over %d minutes", n, 10*minSweep, 10*minSweep/60)
	}
}
