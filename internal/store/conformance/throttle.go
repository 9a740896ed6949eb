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

package conformance

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// windowStart returns the start of the window of length w containing now.
func windowStart(now time.Time, w time.Duration) time.Time {
	return time.Unix(0, now.UnixNano()/int64(w)*int64(w))
}

func add(t *testing.T, s Store, key string, w time.Duration, now time.Time, want int64) {
	t.Helper()
	got, err := s.AddAttempt(t.Context(), key, w, now)
	must(t, "AddAttempt "+key, err)
	if got != want {
		t.Fatalf("AddAttempt(%q, %v, %v) = %d, want %d", key, w, now, got, want)
	}
}

func testThrottleWindows(t *testing.T, s Store) {
	w := time.Minute
	base := windowStart(time.Now(), w)
	add(t, s, "k", w, base, 1)
	add(t, s, "k", w, base.Add(30*time.Second), 2)
	add(t, s, "k", w, base.Add(w-time.Nanosecond), 3)
	add(t, s, "k", w, base.Add(w), 1)
	add(t, s, "k", w, base.Add(w+time.Second), 2)
	// The previous window keeps its own count.
	add(t, s, "k", w, base.Add(10*time.Second), 4)
}

func testThrottleIndependentKeys(t *testing.T, s Store) {
	now := time.Now()
	add(t, s, "a", time.Minute, now, 1)
	add(t, s, "a", time.Minute, now, 2)
	add(t, s, "b", time.Minute, now, 1)
	// Same key, different window length: a different counter.
	add(t, s, "a", time.Hour, now, 1)
	add(t, s, "b", time.Minute, now, 2)
	add(t, s, "a", time.Minute, now, 3)
}

func testThrottleOddKeys(t *testing.T, s Store) {
	now := time.Now()
	for _, key := range []string{"ip:{1}", "ip:%7B1%7D", "user@example.com", ""} {
		add(t, s, key, time.Minute, now, 1)
	}
}

func testThrottleConcurrent(t *testing.T, s Store) {
	const n = 50
	w := time.Minute
	now := time.Now()
	counts := make([]int64, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			c, err := s.AddAttempt(t.Context(), "k", w, now)
			if err != nil {
				t.Errorf("AddAttempt: %v", err)
			}
			counts[i] = c
		})
	}
	close(start)
	wg.Wait()

	slices.Sort(counts)
	for i, c := range counts {
		if c != int64(i+1) {
			t.Fatalf("%d concurrent AddAttempt returned %v, want 1..%d each once", n, counts, n)
		}
	}
	add(t, s, "k", w, now, n+1)
}

func testThrottleInvalidWindow(t *testing.T, s Store) {
	if _, err := s.AddAttempt(t.Context(), "k", 0, time.Now()); err == nil {
		t.Fatal("AddAttempt with a zero window succeeded")
	}
	if _, err := s.CountAttempts(t.Context(), "k", -time.Second, time.Now()); err == nil {
		t.Fatal("CountAttempts with a negative window succeeded")
	}
}

func testThrottleCount(t *testing.T, s Store) {
	ctx, now := t.Context(), time.Now()
	count := func(want int64, at time.Time) {
		t.Helper()
		n, err := s.CountAttempts(ctx, "k", time.Minute, at)
		must(t, "CountAttempts", err)
		if n != want {
			t.Fatalf("CountAttempts = %d, want %d", n, want)
		}
	}
	count(0, now)
	for range 3 {
		_, err := s.AddAttempt(ctx, "k", time.Minute, now)
		must(t, "AddAttempt", err)
	}
	count(3, now)
	count(3, now)                    // reading does not count
	count(0, now.Add(2*time.Minute)) // another window
	if _, err := s.CountAttempts(ctx, "k", 0, now); err == nil {
		t.Fatal("CountAttempts with a zero window succeeded")
	}
}
