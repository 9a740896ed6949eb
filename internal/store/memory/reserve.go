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
	"time"

	"github.com/authstack/authstack/internal/store"
)

// groupKey names a reservation set or a marker within a group.
type groupKey struct {
	group string
	name  string
}

// failureKey is the counter of a reservation group's limit, apart from
// AddAttempt's counters.
func failureKey(r store.Reservation, l store.ThrottleLimit) counterKey {
	return counterKey{group: "reservation " + r.Group, key: l.Key, window: l.Window}
}

// Reserve judges and reserves under the store's one mutex: no two callers
// see the same free place.
func (s *Store) Reserve(_ context.Context, r store.Reservation, now time.Time) (store.Admission, error) {
	if err := r.Validate(); err != nil {
		return store.Admission{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, ok := s.withdrawn[groupKey{r.Group, r.ID}]; ok && now.Before(until) {
		return store.Admission{Refused: 0}, nil
	}
	passed := r.Pass != "" && s.passSet(groupKey{r.Group, r.Pass}, now)
	for i, l := range r.Limits {
		if l.Waivable && passed {
			continue
		}
		failures := s.attempts[failureKey(r, l)][store.WindowIndex(now, l.Window)]
		inFlight := int64(len(s.inFlight(groupKey{r.Group, l.Key}, now)))
		if failures >= l.Max {
			return store.Admission{Refused: i}, nil
		}
		if failures+inFlight >= l.Max {
			return store.Admission{Refused: i, InFlight: true}, nil
		}
	}
	for _, l := range r.Limits {
		gk := groupKey{r.Group, l.Key}
		if s.reservations[gk] == nil {
			s.reservations[gk] = make(map[string]time.Time)
		}
		s.reservations[gk][r.ID] = now.Add(r.Hold)
	}
	return store.Admission{Refused: -1}, nil
}

// inFlight returns the reservations of gk that have not expired at now,
// forgetting the others.
func (s *Store) inFlight(gk groupKey, now time.Time) map[string]time.Time {
	held := s.reservations[gk]
	for id, until := range held {
		if !now.Before(until) {
			delete(held, id)
		}
	}
	if held != nil && len(held) == 0 {
		delete(s.reservations, gk)
	}
	return held
}

func (s *Store) passSet(gk groupKey, now time.Time) bool {
	until, ok := s.passes[gk]
	if ok && !now.Before(until) {
		delete(s.passes, gk)
		return false
	}
	return ok
}

// Settle ends the reservation; a failure is counted like AddAttempt's.
func (s *Store) Settle(_ context.Context, r store.Reservation, outcome store.Outcome, now time.Time) error {
	if err := r.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range r.Limits {
		gk := groupKey{r.Group, l.Key}
		delete(s.reservations[gk], r.ID)
		s.inFlight(gk, now) // drops the set once empty
		if outcome == store.Failed {
			s.count(failureKey(r, l), store.WindowIndex(now, l.Window), now)
		}
	}
	switch {
	case outcome == store.Succeeded && r.Pass != "" && r.PassTTL > 0:
		sweepExpired(s.passes, &s.passSweepAt, now)
		s.passes[groupKey{r.Group, r.Pass}] = now.Add(r.PassTTL)
	case outcome == store.Withdrawn:
		sweepExpired(s.withdrawn, &s.withdrawnSweepAt, now)
		s.withdrawn[groupKey{r.Group, r.ID}] = now.Add(r.Hold)
	}
	return nil
}

// sweepExpired drops the entries of m whose time has come, once m has
// doubled since its last sweep (*at), as sweep does for counters.
func sweepExpired(m map[groupKey]time.Time, at *int, now time.Time) {
	if len(m) < max(*at, minSweep) {
		return
	}
	for gk, until := range m {
		if !now.Before(until) {
			delete(m, gk)
		}
	}
	*at = 2 * len(m)
}
