/*
Copyright 2026 The authstack Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// Counters of keys never seen again are dropped once expired, and a
// settled reservation that counted nothing leaves nothing: memory follows
// the live keys.
func TestThrottleCountersArePruned(t *testing.T) {
	s := New()
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	r := store.Reservation{Group: "g", ID: "1", Hold: time.Second, Limits: []store.ThrottleLimit{{Key: "k", Max: 1, Window: time.Minute}}}
	for _, outcome := range []store.Outcome{store.Withdrawn, store.Succeeded} {
		if _, err := s.Reserve(ctx, r, now); err != nil {
			t.Fatal(err)
		}
		if err := s.Settle(ctx, r, outcome, now); err != nil {
			t.Fatal(err)
		}
		if n := s.attemptKeys() + len(s.reservations) + len(s.passes); n != 0 {
			t.Fatalf("%d keys after a reservation settled with outcome %d", n, outcome)
		}
	}
	// Withdrawal marks go once their hold has ended.
	for i := range 4 * minSweep {
		r.ID = fmt.Sprint("w", i)
		if err := s.Settle(ctx, r, store.Withdrawn, now.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.withdrawn); n > 2*minSweep {
		t.Fatalf("%d withdrawal marks held, their holds long over", n)
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
