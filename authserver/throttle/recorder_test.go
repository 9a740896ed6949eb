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

package throttle

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
)

// flushNow runs r until a cancelled context: its one final flush.
func flushNow(r *Recorder) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.Run(ctx)
}

func throttlesOf(t *testing.T, s *memory.Store, now time.Time) map[string]store.Throttle {
	t.Helper()
	a, err := s.ReadActivity(t.Context(), now, now)
	if err != nil {
		t.Fatal(err)
	}
	return a.Throttles
}

// The recorder keeps the refusals of the limits naming a user, the latest
// end of each, and at most Users users, and flushes them to the store.
func TestRecorderKeepsUserLimitsWithinItsBound(t *testing.T) {
	st := memory.New()
	clk := clocktesting.NewFakeClock(time.Now().Truncate(time.Millisecond))
	r := &Recorder{Store: st, Users: 2, Clock: clk}
	now := clk.Now()
	r.Note("alice", &ExceededError{Scope: ScopeUserIP, RetryAfter: time.Minute})
	r.Note("alice", &ExceededError{Scope: ScopeUserRate, RetryAfter: 10 * time.Second}) // ends earlier: kept as was
	r.Note("bob", fmt.Errorf("wrapped: %w", &ExceededError{Scope: ScopeUserRate, RetryAfter: 30 * time.Second}))
	r.Note("carol", &ExceededError{Scope: ScopeUserIP, RetryAfter: time.Minute}) // a third user: dropped
	// Not a user's limit, only attempts in flight, or not a limit at all.
	r.Note("dave", &ExceededError{Scope: ScopeIP, RetryAfter: time.Minute})
	r.Note("erin", &ExceededError{Scope: ScopeUserIP, RetryAfter: time.Second, InFlight: true})
	r.Note("frank", errors.New("store unavailable"))
	if got := r.Dropped(); got != 1 {
		t.Errorf("dropped %d, want 1 (carol, beyond the bound of 2)", got)
	}
	flushNow(r)
	got := throttlesOf(t, st, now)
	want := map[string]store.Throttle{
		"alice": {Until: now.Add(time.Minute), Limit: "user_ip"},
		"bob":   {Until: now.Add(30 * time.Second), Limit: "user_rate"},
	}
	if len(got) != len(want) || got["alice"] != want["alice"] || got["bob"] != want["bob"] {
		t.Fatalf("flushed %v, want %v", got, want)
	}
	// The flush emptied the set: carol now fits.
	r.Note("carol", &ExceededError{Scope: ScopeUserIP, RetryAfter: time.Minute})
	flushNow(r)
	if _, ok := throttlesOf(t, st, now)["carol"]; !ok || r.Dropped() != 1 {
		t.Fatalf("carol after a flush: %v, dropped %d", throttlesOf(t, st, now), r.Dropped())
	}
}

// failingRecords refuses every write.
type failingRecords struct{}

func (failingRecords) RecordThrottles(context.Context, map[string]store.Throttle, time.Time) error {
	return errors.New("store unavailable")
}

// A flush the store refuses keeps the users still throttled for the next.
func TestRecorderKeepsWhatAFlushCouldNotWrite(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	r := &Recorder{Store: failingRecords{}, Clock: clk}
	r.Note("alice", &ExceededError{Scope: ScopeUserIP, RetryAfter: time.Minute})
	r.Note("bob", &ExceededError{Scope: ScopeUserIP, RetryAfter: time.Second})
	clk.Step(2 * time.Second) // bob's has ended by the flush
	flushNow(r)
	if r.FlushErrors() != 1 {
		t.Fatalf("flush errors %d, want 1", r.FlushErrors())
	}
	st := memory.New()
	r.Store = st
	flushNow(r)
	got := throttlesOf(t, st, clk.Now())
	if _, ok := got["alice"]; !ok || len(got) != 1 {
		t.Fatalf("after a failed flush, the next wrote %v, want alice's alone", got)
	}
}
