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
	"errors"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// counterKey names the counters of one throttle key for one window length:
// AddAttempt's keys (group ""), or a reservation group's failure counters.
type counterKey struct {
	group  string
	key    string
	window time.Duration
}

// AddAttempt counts one attempt in the window containing now and forgets
// windows older than the previous one.
func (s *Store) AddAttempt(_ context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	if window <= 0 {
		return 0, errors.New("add attempt: window must be positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count(counterKey{"", key, window}, store.WindowIndex(now, window), now), nil
}

// count adds one to ck's counter for window idx and returns it; s.mu held.
func (s *Store) count(ck counterKey, idx int64, now time.Time) int64 {
	windows := s.attempts[ck]
	if windows == nil {
		s.sweep(now)
		windows = make(map[int64]int64)
		s.attempts[ck] = windows
	}
	expire(windows, idx)
	windows[idx]++
	return windows[idx]
}

// minSweep is the number of counter keys below which none are swept.
const minSweep = 1024

// sweep drops every key whose counters have all expired, as Redis's TTLs
// do, once the table has doubled since the last sweep: memory follows the
// live keys, not every key ever seen, at amortised constant cost.
func (s *Store) sweep(now time.Time) {
	if len(s.attempts) < max(s.sweepAt, minSweep) {
		return
	}
	for ck, windows := range s.attempts {
		expire(windows, store.WindowIndex(now, ck.window))
		if len(windows) == 0 {
			delete(s.attempts, ck)
		}
	}
	s.sweepAt = 2 * len(s.attempts)
}

// expire forgets windows older than the one before idx, and empty ones.
func expire(windows map[int64]int64, idx int64) {
	for i, n := range windows {
		if i < idx-1 || n == 0 {
			delete(windows, i)
		}
	}
}

// attemptKeys is the number of counter keys held, for tests.
func (s *Store) attemptKeys() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.attempts)
}

// CountAttempts returns key's counter for the window containing now.
func (s *Store) CountAttempts(_ context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	if window <= 0 {
		return 0, errors.New("count attempts: window must be positive")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[counterKey{"", key, window}][store.WindowIndex(now, window)], nil
}
