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
	"strconv"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// maxLog bounds the change log; a reader further behind loads again.
const maxLog = 10000

// changeLog is the memory backend's revocation feed: the changes in order,
// numbered from 1, the oldest possibly trimmed. Its fields are guarded by
// the Store's mutex.
type changeLog struct {
	events []store.RevocationEvent
	first  uint64 // number of events[0]
	last   uint64 // number of the newest change; 0 before any
	// wake is closed, and replaced, on every change.
	wake chan struct{}
}

// appendChange records a change, written now, and wakes the waiters.
// s.mu must be held.
func (s *Store) appendChange(e store.RevocationEvent) {
	// The write time is a figure for metrics, never a decision: the real
	// clock, as Redis stamps its entries.
	e.Written = time.Now()
	l := &s.log
	if len(l.events) == 0 {
		l.first = l.last + 1
	}
	l.events = append(l.events, e)
	l.last++
	if len(l.events) > maxLog {
		drop := len(l.events) - maxLog
		l.events = append(l.events[:0:0], l.events[drop:]...)
		l.first += uint64(drop)
	}
	if l.wake != nil {
		close(l.wake)
		l.wake = nil
	}
}

// stateChanged appends the change of a user's or client's state (name is
// a username or a store.ClientSubject), if it changed. s.mu must be held.
func (s *Store) stateChanged(name string, old, cur *store.UserState) {
	switch {
	case old == nil && cur == nil:
		return
	case old != nil && cur != nil && old.Equal(*cur):
		return
	}
	e := store.RevocationEvent{Username: name}
	if cur != nil {
		st := *cur
		e.User = &st
	}
	s.appendChange(e)
}

// RevokeGrant records grant as revoked until until.
func (s *Store) RevokeGrant(_ context.Context, grant string, until time.Time) error {
	s.revoke(s.revokedGrants, store.RevocationEvent{Grant: grant, Until: until}, grant)
	return nil
}

// revoke records e in set under id, unless id is already revoked at least
// as long, and logs it. Times are kept to the millisecond, as in Redis.
func (s *Store) revoke(set map[string]time.Time, e store.RevocationEvent, id string) {
	e.Until = e.Until.Truncate(time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := set[id]; ok && !cur.Before(e.Until) {
		return
	}
	set[id] = e.Until
	s.appendChange(e)
}

// LoadRevocations passes the current state to fn.
func (s *Store) LoadRevocations(_ context.Context, now time.Time, fn func(store.RevocationEvent)) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for jti, until := range s.revokedJTIs {
		if until.After(now) {
			fn(store.RevocationEvent{JTI: jti, Until: until})
		}
	}
	for g, until := range s.revokedGrants {
		if until.After(now) {
			fn(store.RevocationEvent{Grant: g, Until: until})
		}
	}
	for name, u := range s.users {
		st := u.State()
		fn(store.RevocationEvent{Username: name, User: &st})
	}
	for id, c := range s.clients {
		st := c.State()
		fn(store.RevocationEvent{Username: store.ClientSubject(id), User: &st})
	}
	return s.epoch, strconv.FormatUint(s.log.last, 10), nil
}

// ReadRevocations returns the changes after cursor.
func (s *Store) ReadRevocations(_ context.Context, epoch, cursor string, max int) ([]store.RevocationEvent, string, error) {
	const op = "read revocations"
	n, err := strconv.ParseUint(cursor, 10, 64)
	if err != nil {
		return nil, "", fmt.Errorf("%s: bad cursor: %w", op, store.ErrFeedReset)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := &s.log
	switch {
	case epoch != s.epoch:
		return nil, "", fmt.Errorf("%s: epoch changed: %w", op, store.ErrFeedReset)
	case n > l.last:
		return nil, "", fmt.Errorf("%s: %w", op, store.ErrRolledBack)
	case n == l.last:
		return nil, cursor, nil
	case n+1 < l.first:
		return nil, "", fmt.Errorf("%s: trimmed: %w", op, store.ErrFeedReset)
	}
	from := int(n + 1 - l.first)
	to := len(l.events)
	if max > 0 && to-from > max {
		to = from + max
	}
	out := make([]store.RevocationEvent, 0, to-from)
	for _, e := range l.events[from:to] {
		if e.User != nil {
			st := *e.User
			e.User = &st
		}
		out = append(out, e)
	}
	return out, strconv.FormatUint(l.first+uint64(to)-1, 10), nil
}

// WaitRevocations returns when a change after cursor exists, after wait,
// or when ctx ends.
func (s *Store) WaitRevocations(ctx context.Context, cursor string, wait time.Duration) error {
	n, err := strconv.ParseUint(cursor, 10, 64)
	if err != nil {
		return fmt.Errorf("wait revocations: bad cursor: %w", store.ErrFeedReset)
	}
	s.mu.Lock()
	if s.log.last != n {
		s.mu.Unlock()
		return nil
	}
	if s.log.wake == nil {
		s.log.wake = make(chan struct{})
	}
	wake := s.log.wake
	s.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-wake:
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}
