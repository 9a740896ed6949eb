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

package store

import (
	"context"
	"errors"
	"time"
)

// LoginParts are the methods a login's batches are made of.
type LoginParts interface {
	Users
	Clients
	Sessions
	Counters
	Epochs
	Activity
}

// BeginLoginOf does what BeginLogin does by calling s's methods one after
// another: for a backend without round trips to save (memory), and for
// test wrappers that change one of the methods.
func BeginLoginOf(ctx context.Context, s LoginParts, l LoginStart, now time.Time) (LoginState, error) {
	st := LoginState{Admission: Admission{Refused: -1}}
	var err error
	if l.Rate.Key != "" {
		if st.Rate, err = s.CountAttempts(ctx, l.Rate.Key, l.Rate.Window, now); err != nil {
			return LoginState{}, err
		}
	}
	if len(l.Reservation.Limits) > 0 {
		if st.Admission, err = s.Reserve(ctx, l.Reservation, now); err != nil {
			return LoginState{}, err
		}
	}
	st.User, err = s.GetUser(ctx, l.Username)
	switch {
	case err == nil:
		st.Known = true
	case !errors.Is(err, ErrNotFound):
		return LoginState{}, WithdrawAfter(ctx, s, l, st.Admission, err, now)
	}
	if st.Epoch, err = s.GetEpoch(ctx); err != nil && !errors.Is(err, ErrNotFound) {
		return LoginState{}, WithdrawAfter(ctx, s, l, st.Admission, err, now)
	}
	return st, nil
}

// WithdrawAfter takes back l's reservation, admitted as a says, when the
// BeginLogin that made it fails with err (Logins.BeginLogin's contract,
// for every backend); it returns err.
func WithdrawAfter(ctx context.Context, s Counters, l LoginStart, a Admission, err error, now time.Time) error {
	if len(l.Reservation.Limits) > 0 && a.Admitted() {
		_ = s.Settle(ctx, l.Reservation, Withdrawn, now)
	}
	return err
}

// FinishLoginOf does what FinishLogin does by calling s's methods one
// after another, as BeginLoginOf.
func FinishLoginOf(ctx context.Context, s LoginParts, l LoginEnd, now time.Time) ([]string, error) {
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
	var evicted []string
	if l.Session != nil {
		var err error
		if evicted, err = s.AddUserSession(ctx, l.Session.Username, l.Session.ID, l.Session.Until(), l.MaxSessions, now); err != nil {
			return nil, err
		}
		if err := s.CreateSession(ctx, *l.Session); err != nil {
			return evicted, err
		}
	}
	if l.LastLogin != "" {
		return evicted, s.RecordLogin(ctx, l.LastLogin, now)
	}
	return evicted, nil
}

// BeginRefreshOf does what BeginRefresh does by calling s's methods one
// after another, as BeginLoginOf.
func BeginRefreshOf(ctx context.Context, s LoginParts, id, clientID string) (RefreshState, error) {
	var st RefreshState
	if clientID != "" {
		st.Client, st.ClientErr = s.GetClient(ctx, clientID)
	}
	var err error
	if st.Session, err = s.GetSession(ctx, id); err != nil {
		return RefreshState{Client: st.Client, ClientErr: st.ClientErr}, err
	}
	if st.Epoch, err = s.GetEpoch(ctx); err != nil && !errors.Is(err, ErrNotFound) {
		return RefreshState{Client: st.Client, ClientErr: st.ClientErr}, err
	}
	return st, nil
}

// FinishRefreshOf does what FinishRefresh does by calling s's methods one
// after another, as BeginLoginOf.
func FinishRefreshOf(ctx context.Context, s LoginParts, username, id string, r Rotation, now time.Time) (Refreshed, error) {
	var f Refreshed
	f.User, f.UserErr = s.GetUser(ctx, username)
	var err error
	f.Was, err = s.RotateSession(ctx, id, r, now)
	return f, err
}
