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

// BeginLogin does what CountAttempts, Reserve, GetUser and GetEpoch do.
func (s *Store) BeginLogin(ctx context.Context, l store.LoginStart, now time.Time) (store.LoginState, error) {
	st := store.LoginState{Admission: store.Admission{Refused: -1}}
	var err error
	if l.Rate.Key != "" {
		if st.Rate, err = s.CountAttempts(ctx, l.Rate.Key, l.Rate.Window, now); err != nil {
			return store.LoginState{}, err
		}
	}
	if len(l.Reservation.Limits) > 0 {
		if st.Admission, err = s.Reserve(ctx, l.Reservation, now); err != nil {
			return store.LoginState{}, err
		}
	}
	st.User, err = s.GetUser(ctx, l.Username)
	st.Known = err == nil
	if st.Epoch, err = s.GetEpoch(ctx); err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.LoginState{}, err
	}
	return st, nil
}

// FinishLogin does what Settle, AddAttempt, AddUserSession and
// CreateSession do.
func (s *Store) FinishLogin(ctx context.Context, l store.LoginEnd, now time.Time) ([]string, error) {
	if len(l.Reservation.Limits) > 0 {
		if err := s.Settle(ctx, l.Reservation, l.Outcome, now); err != nil {
			return nil, err
		}
	}
	if l.Rate.Key != "" {
		if _, err := s.AddAttempt(ctx, l.Rate.Key, l.Rate.Window, now); err != nil {
			return nil, err
		}
	}
	if l.Session == nil {
		return nil, nil
	}
	evicted, err := s.AddUserSession(ctx, l.Session.Username, l.Session.ID, l.Session.Until(), l.MaxSessions, now)
	if err != nil {
		return nil, err
	}
	return evicted, s.CreateSession(ctx, *l.Session)
}

// BeginRefresh does what GetSession and GetEpoch do.
func (s *Store) BeginRefresh(ctx context.Context, id string) (store.Session, string, error) {
	sess, err := s.GetSession(ctx, id)
	if err != nil {
		return store.Session{}, "", err
	}
	epoch, err := s.GetEpoch(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Session{}, "", err
	}
	return sess, epoch, nil
}

// FinishRefresh does what GetUser and RotateSession do.
func (s *Store) FinishRefresh(ctx context.Context, username, id string, r store.Rotation, now time.Time) (store.Refreshed, error) {
	var f store.Refreshed
	f.User, f.UserErr = s.GetUser(ctx, username)
	var err error
	f.Was, err = s.RotateSession(ctx, id, r, now)
	return f, err
}
