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
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// BeginLogin reads and reserves what CountAttempts, Reserve, GetUser and
// GetEpoch would; a refused reservation leaves nothing behind, and the
// reads are made either way.
func testLoginBegin(t *testing.T, s Store) {
	ctx := t.Context()
	now := within(time.Minute, time.Second)
	rate := store.Counter{Key: "rate:alice", Window: time.Minute}
	r := attempt("a1", limit("ip", 1, time.Minute))
	st, err := s.BeginLogin(ctx, store.LoginStart{Username: "alice", Rate: rate, Reservation: r}, now)
	must(t, "BeginLogin", err)
	if !st.Admission.Admitted() || st.Rate != 0 || st.Known || st.Epoch != "" {
		t.Fatalf("an empty store: %+v, want admitted, no count, no user, no epoch", st)
	}
	u := store.User{Username: "alice", PasswordHash: "h", Scopes: []string{"read"}}
	must(t, "PutUser", s.PutUser(ctx, u))
	_, err = s.InitEpoch(ctx, "e1")
	must(t, "InitEpoch", err)
	for range 2 {
		_, err := s.AddAttempt(ctx, rate.Key, rate.Window, now)
		must(t, "AddAttempt", err)
	}
	// The limit's one place is held by a1: a2 is refused, and reads all
	// the same.
	st, err = s.BeginLogin(ctx, store.LoginStart{Username: "alice", Rate: rate, Reservation: attempt("a2", limit("ip", 1, time.Minute))}, now)
	must(t, "BeginLogin", err)
	if st.Admission.Admitted() || !st.Admission.InFlight || st.Rate != 2 || !st.Known || st.User.PasswordHash != "h" || st.Epoch != "e1" {
		t.Fatalf("BeginLogin: %+v, want refused in flight, count 2, alice's record and epoch e1", st)
	}
	must(t, "Settle", s.Settle(ctx, r, store.Succeeded, now))
	admit(t, s, attempt("a3", limit("ip", 1, time.Minute)), now) // a2 left nothing
	// No reservation and no counter: the reads alone.
	st, err = s.BeginLogin(ctx, store.LoginStart{Username: "bob"}, now)
	must(t, "BeginLogin", err)
	if !st.Admission.Admitted() || st.Rate != 0 || st.Known || st.Epoch != "e1" {
		t.Fatalf("BeginLogin without limits: %+v", st)
	}
}

// FinishLogin settles, counts, and stores the session with its user's
// index, as Settle, AddAttempt, AddUserSession and CreateSession would.
func testLoginFinish(t *testing.T, s Store) {
	ctx := t.Context()
	now := within(time.Minute, time.Second)
	rate := store.Counter{Key: "rate:alice", Window: time.Minute}
	fail := attempt("f1", limit("ip", 1, time.Minute))
	admit(t, s, fail, now)
	evicted, err := s.FinishLogin(ctx, store.LoginEnd{Reservation: fail, Outcome: store.Failed, Rate: rate}, now)
	must(t, "FinishLogin", err)
	if len(evicted) != 0 {
		t.Fatalf("a failure evicted %v", evicted)
	}
	refuse(t, s, attempt("f2", limit("ip", 1, time.Minute)), now, 0, false) // the failure counted
	if n, err := s.CountAttempts(ctx, rate.Key, rate.Window, now); err != nil || n != 1 {
		t.Fatalf("rate count after FinishLogin: %d, %v, want 1", n, err)
	}

	ok := attempt("s1", limit("ip", 5, time.Minute))
	var ids []string
	for i := range 3 {
		sess := newSession("login"+string(rune('1'+i)), now)
		sess.TokenExpiresAt = now.Add(time.Duration(i+1) * time.Hour)
		admit(t, s, ok, now)
		evicted, err := s.FinishLogin(ctx, store.LoginEnd{Reservation: ok, Outcome: store.Succeeded, Session: &sess, MaxSessions: 2}, now)
		must(t, "FinishLogin", err)
		got, err := s.GetSession(ctx, sess.ID)
		must(t, "GetSession", err)
		if !reflect.DeepEqual(normSession(got), normSession(sess)) {
			t.Fatalf("stored session %+v, want %+v", got, sess)
		}
		ids = append(ids, evicted...)
	}
	if !slices.Equal(ids, []string{"login1"}) {
		t.Fatalf("evicted %v, want the session that expires first, login1", ids)
	}
	// The session's ID is taken: the error says so.
	dup := newSession("login3", now)
	_, err = s.FinishLogin(ctx, store.LoginEnd{Session: &dup}, now)
	wantErr(t, "FinishLogin of a taken session ID", err, store.ErrAlreadyExists)
}

// BeginRefresh and FinishRefresh read and rotate what GetSession,
// GetEpoch, GetClient, GetUser and RotateSession would.
func testRefreshBatches(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	_, err := s.BeginRefresh(ctx, "nope", "")
	wantErr(t, "BeginRefresh of an unknown session", err, store.ErrNotFound)
	sess := newSession("r1", now)
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	st, err := s.BeginRefresh(ctx, "r1", "")
	must(t, "BeginRefresh", err)
	if st.Epoch != "" || !reflect.DeepEqual(normSession(st.Session), normSession(sess)) || st.ClientErr != nil || st.Client.ID != "" {
		t.Fatalf("BeginRefresh: %+v; want the session, no epoch and no client", st)
	}
	_, err = s.InitEpoch(ctx, "e1")
	must(t, "InitEpoch", err)
	if st, err = s.BeginRefresh(ctx, "r1", ""); err != nil || st.Epoch != "e1" {
		t.Fatalf("BeginRefresh: epoch %q, %v, want e1", st.Epoch, err)
	}

	rot := store.Rotation{Generation: 0, TokenHash: "h0", NextHash: "h1", NextExpiresAt: now.Add(time.Hour), AccessExpiresAt: now.Add(20 * time.Minute)}
	f, err := s.FinishRefresh(ctx, "alice", "r1", rot, now)
	must(t, "FinishRefresh", err)
	wantErr(t, "FinishRefresh's read of a missing user", f.UserErr, store.ErrNotFound)
	if f.Was.Generation != 0 || f.Was.TokenHash != "h0" {
		t.Fatalf("FinishRefresh returned %+v, want the session before the rotation", f.Was)
	}
	must(t, "PutUser", s.PutUser(ctx, store.User{Username: "alice", PasswordHash: "h", Groups: []string{"g"}}))
	rot = store.Rotation{Generation: 1, TokenHash: "h1", NextHash: "h2", NextExpiresAt: now.Add(time.Hour), AccessExpiresAt: now.Add(20 * time.Minute)}
	f, err = s.FinishRefresh(ctx, "alice", "r1", rot, now)
	must(t, "FinishRefresh", err)
	if f.UserErr != nil || !slices.Equal(f.User.Groups, []string{"g"}) || f.Was.Generation != 1 {
		t.Fatalf("FinishRefresh: %+v", f)
	}
	// The token of generation 0 again: reuse, and the session is revoked.
	rot.Generation, rot.TokenHash = 0, "h0"
	f, err = s.FinishRefresh(ctx, "alice", "r1", rot, now)
	wantErr(t, "FinishRefresh of a used token", err, store.ErrTokenReused)
	if !f.Was.Revoked || f.UserErr != nil {
		t.Fatalf("FinishRefresh of a used token: %+v", f)
	}
}

// BeginRefresh reads the client asked for with the session, whether or
// not the session is found, and changes nothing.
func testRefreshClient(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	st, err := s.BeginRefresh(ctx, "nope", "web")
	wantErr(t, "BeginRefresh of an unknown session", err, store.ErrNotFound)
	wantErr(t, "BeginRefresh's read of an unknown client", st.ClientErr, store.ErrNotFound)
	if st.Client.ID != "" {
		t.Fatalf("BeginRefresh of an unknown client: %+v", st.Client)
	}
	c := store.Client{ID: "web", GrantTypes: []string{"refresh_token"}, Scopes: []string{"read"}, Source: "ns/web"}
	must(t, "PutClient", s.PutClient(ctx, c))
	st, err = s.BeginRefresh(ctx, "nope", "web")
	wantErr(t, "BeginRefresh of an unknown session", err, store.ErrNotFound)
	must(t, "BeginRefresh's read of the client", st.ClientErr)
	checkClient(t, st.Client, c)

	sess := newSession("r1", now)
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	_, err = s.InitEpoch(ctx, "e1")
	must(t, "InitEpoch", err)
	st, err = s.BeginRefresh(ctx, "r1", "web")
	must(t, "BeginRefresh", err)
	must(t, "BeginRefresh's read of the client", st.ClientErr)
	checkClient(t, st.Client, c)
	if st.Epoch != "e1" || !reflect.DeepEqual(normSession(st.Session), normSession(sess)) {
		t.Fatalf("BeginRefresh: %+v; want the session and epoch e1", st)
	}
	// Another client than the session's is read as asked: judging it is
	// the caller's.
	st, err = s.BeginRefresh(ctx, "r1", "other")
	must(t, "BeginRefresh", err)
	wantErr(t, "BeginRefresh's read of an unknown client", st.ClientErr, store.ErrNotFound)
	if st.Session.ClientID != "web" {
		t.Fatalf("BeginRefresh: %+v", st.Session)
	}
	// Reading changed nothing: the session still rotates from generation 0.
	got, err := s.GetSession(ctx, "r1")
	must(t, "GetSession", err)
	if !reflect.DeepEqual(normSession(got), normSession(sess)) {
		t.Fatalf("after BeginRefresh the session is %+v, want %+v", got, sess)
	}
}
