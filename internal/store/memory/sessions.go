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
	"crypto/subtle"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// session is a stored session with its rotation counter for the current
// window.
type session struct {
	store.Session
	window, rotations int64
}

// CreateSession stores a copy of sess unless its ID is taken.
func (s *Store) CreateSession(_ context.Context, sess store.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[sess.ID]; ok {
		return fmt.Errorf("create session: %w", store.ErrAlreadyExists)
	}
	s.sessions[sess.ID] = &session{Session: copySession(sess)}
	return nil
}

// GetSession returns a copy of the session.
func (s *Store) GetSession(_ context.Context, id string) (store.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return store.Session{}, fmt.Errorf("get session: %w", store.ErrNotFound)
	}
	return copySession(sess.Session), nil
}

// RotateSession exchanges the current token for the next one. The checks
// run in the same order as in every backend: unknown, revoked, expired,
// an earlier generation (reuse), not the current token, rate limit.
func (s *Store) RotateSession(_ context.Context, id string, r store.Rotation, now time.Time) (store.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	switch {
	case !ok:
		return store.Session{}, fmt.Errorf("rotate session: %w", store.ErrNotFound)
	case sess.Revoked:
		return copySession(sess.Session), fmt.Errorf("rotate session: revoked: %w", store.ErrNotFound)
	case !now.Before(sess.TokenExpiresAt):
		return store.Session{}, fmt.Errorf("rotate session: expired: %w", store.ErrNotFound)
	case r.Generation+1 == sess.Generation && r.NextHash == sess.TokenHash:
		// This very rotation, sent again: answered as it was.
		before := copySession(sess.Session)
		before.Generation, before.TokenHash = r.Generation, r.TokenHash
		return before, nil
	case r.Generation < sess.Generation:
		sess.Revoked = true
		return copySession(sess.Session), fmt.Errorf("rotate session: %w", store.ErrTokenReused)
	case r.Generation > sess.Generation || subtle.ConstantTimeCompare([]byte(r.TokenHash), []byte(sess.TokenHash)) != 1:
		return store.Session{}, fmt.Errorf("rotate session: not the current token: %w", store.ErrNotFound)
	}
	if r.MaxPerWindow > 0 {
		w := store.WindowIndex(now, r.Window)
		if sess.window != w {
			sess.window, sess.rotations = w, 0
		}
		if sess.rotations >= r.MaxPerWindow {
			end := time.Unix(0, (w+1)*r.Window.Nanoseconds())
			return store.Session{}, fmt.Errorf("rotate session: %w", &store.RateLimitError{RetryAfter: end.Sub(now)})
		}
		sess.rotations++
	}
	before := copySession(sess.Session)
	sess.Generation++
	sess.TokenHash, sess.TokenExpiresAt = r.NextHash, r.NextExpiresAt
	if r.AccessExpiresAt.After(sess.AccessExpiresAt) {
		sess.AccessExpiresAt = r.AccessExpiresAt
	}
	return before, nil
}

// RevokeSession marks the session revoked; the memory store keeps it.
func (s *Store) RevokeSession(_ context.Context, id string) (store.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[id]
	if !ok {
		return store.Session{}, fmt.Errorf("revoke session: %w", store.ErrNotFound)
	}
	sess.Revoked = true
	return copySession(sess.Session), nil
}

func copySession(sess store.Session) store.Session {
	sess.Scopes = clone(sess.Scopes)
	return sess
}

// AddUserSession counts the session among the user's and returns those
// beyond max, the soonest to expire first.
func (s *Store) AddUserSession(_ context.Context, username, id string, expires time.Time, max int, now time.Time) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	live := s.userSessions[username]
	if live == nil {
		live = make(map[string]time.Time)
		s.userSessions[username] = live
	}
	for sid, exp := range live {
		if !exp.After(now) {
			delete(live, sid)
		}
	}
	live[id] = expires
	if max <= 0 || len(live) <= max {
		return nil, nil
	}
	ids := make([]string, 0, len(live))
	for sid := range live {
		ids = append(ids, sid)
	}
	sort.Slice(ids, func(i, j int) bool {
		if !live[ids[i]].Equal(live[ids[j]]) {
			return live[ids[i]].Before(live[ids[j]])
		}
		return ids[i] < ids[j]
	})
	evicted := ids[:len(ids)-max]
	for _, sid := range evicted {
		delete(live, sid)
	}
	return slices.Clone(evicted), nil
}
