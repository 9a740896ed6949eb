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
	"maps"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// RecordLogin keeps at as username's last login unless a later one is
// kept.
func (s *Store) RecordLogin(_ context.Context, username string, at time.Time) error {
	at = at.Truncate(time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.lastLogins[username]; !ok || at.After(old) {
		s.lastLogins[username] = at
	}
	return nil
}

// RecordThrottles forgets the throttles that ended by now and keeps each
// of throttles unless a later one of its user is kept.
func (s *Store) RecordThrottles(_ context.Context, throttles map[string]store.Throttle, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.DeleteFunc(s.throttles, func(_ string, t store.Throttle) bool { return !t.Until.After(now) })
	for name, t := range throttles {
		t.Until = t.Until.Truncate(time.Millisecond)
		if old, ok := s.throttles[name]; t.Until.After(now) && (!ok || t.Until.After(old.Until)) {
			s.throttles[name] = t
		}
	}
	return nil
}

// ReadActivity returns the logins after since and the throttles in force
// at now.
func (s *Store) ReadActivity(_ context.Context, since, now time.Time) (store.UserActivity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := store.UserActivity{Logins: map[string]time.Time{}, Throttles: map[string]store.Throttle{}}
	for name, at := range s.lastLogins {
		if at.After(since) {
			a.Logins[name] = at
		}
	}
	for name, t := range s.throttles {
		if t.Until.After(now) {
			a.Throttles[name] = t
		}
	}
	return a, nil
}

// forgetActivity drops username's entries, with its record; s.mu held.
func (s *Store) forgetActivity(username string) {
	delete(s.lastLogins, username)
	delete(s.throttles, username)
}
