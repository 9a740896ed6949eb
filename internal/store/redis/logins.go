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

package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// BeginLogin sends the rate counter's GET, the reservation's script, the
// user's GET and the epoch's GET in one pipeline: four slots, one round
// trip.
func (s *Store) BeginLogin(ctx context.Context, l store.LoginStart, now time.Time) (store.LoginState, error) {
	const op = "begin login"
	if len(l.Reservation.Limits) > 0 {
		if err := l.Reservation.Validate(); err != nil {
			return store.LoginState{}, err
		}
	}
	if l.Rate.Key != "" && l.Rate.Window <= 0 {
		return store.LoginState{}, errors.New(op + ": window must be positive")
	}
	b := s.batch()
	rate := func() (int64, error) { return 0, nil }
	if l.Rate.Key != "" {
		rate = s.queueCountAttempts(ctx, b, l.Rate.Key, l.Rate.Window, now)
	}
	reserve := func() (store.Admission, error) { return store.Admission{Refused: -1}, nil }
	if len(l.Reservation.Limits) > 0 {
		reserve = s.queueReserve(ctx, b, l.Reservation, now)
	}
	user, epoch := s.queueGetUser(ctx, b, l.Username), s.queueGetEpoch(ctx, b)
	b.exec(ctx)

	var st store.LoginState
	var errs [4]error
	st.Rate, errs[0] = rate()
	st.Admission, errs[1] = reserve()
	st.User, errs[2] = user()
	st.Known = errs[2] == nil
	st.Epoch, errs[3] = epoch()
	for _, err := range errs {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.LoginState{}, store.WithdrawAfter(ctx, s, l, st.Admission, fmt.Errorf("%s: %w", op, err), now)
		}
	}
	return st, nil
}

// FinishLogin sends the settlement's script, the rate counter's script,
// the session's two scripts (its user's index, then the session) and the
// last login's ZADD in one pipeline: one round trip.
func (s *Store) FinishLogin(ctx context.Context, l store.LoginEnd, now time.Time) ([]string, error) {
	const op = "finish login"
	if len(l.Reservation.Limits) > 0 {
		if err := l.Reservation.Validate(); err != nil {
			return nil, err
		}
	}
	if l.Rate.Key != "" && l.Rate.Window <= 0 {
		return nil, errors.New(op + ": window must be positive")
	}
	b := s.batch()
	var done []func() (struct{}, error)
	if len(l.Reservation.Limits) > 0 {
		done = append(done, s.queueSettle(ctx, b, l.Reservation, l.Outcome, now))
	}
	if l.Rate.Key != "" {
		count := s.queueAddAttempt(ctx, b, l.Rate.Key, l.Rate.Window, now)
		done = append(done, func() (struct{}, error) { _, err := count(); return struct{}{}, err })
	}
	evict := func() ([]string, error) { return nil, nil }
	if sess := l.Session; sess != nil {
		evict = s.queueAddUserSession(ctx, b, sess.Username, sess.ID, sess.Until(), l.MaxSessions, now)
		done = append(done, s.queueCreateSession(ctx, b, *sess))
	}
	if l.LastLogin != "" {
		done = append(done, s.queueRecordLogin(ctx, b, l.LastLogin, now))
	}
	b.exec(ctx)

	evicted, err := evict()
	errs := []error{err}
	for _, d := range done {
		_, err := d()
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return evicted, fmt.Errorf("%s: %w", op, err)
	}
	return evicted, nil
}

// BeginRefresh sends the session's script, the epoch's GET and the
// client's GET in one pipeline.
func (s *Store) BeginRefresh(ctx context.Context, id, clientID string) (store.RefreshState, error) {
	b := s.batch()
	sess, epoch := s.queueGetSession(ctx, b, id), s.queueGetEpoch(ctx, b)
	client := func() (store.Client, error) { return store.Client{}, nil }
	if clientID != "" {
		client = s.queueGetClient(ctx, b, clientID)
	}
	b.exec(ctx)
	var st store.RefreshState
	st.Client, st.ClientErr = client()
	var err error
	if st.Session, err = sess(); err != nil {
		return store.RefreshState{Client: st.Client, ClientErr: st.ClientErr}, err
	}
	if st.Epoch, err = epoch(); err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.RefreshState{Client: st.Client, ClientErr: st.ClientErr}, err
	}
	return st, nil
}

// FinishRefresh sends the user's GET and the rotation's script in one
// pipeline.
func (s *Store) FinishRefresh(ctx context.Context, username, id string, r store.Rotation, now time.Time) (store.Refreshed, error) {
	b := s.batch()
	user, rotate := s.queueGetUser(ctx, b, username), s.queueRotateSession(ctx, b, id, r, now)
	b.exec(ctx)
	var f store.Refreshed
	f.User, f.UserErr = user()
	var err error
	f.Was, err = rotate()
	return f, err
}
