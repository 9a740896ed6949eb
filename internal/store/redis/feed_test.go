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
	"errors"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/testing/redistest"
)

// A reader whose changes were trimmed from the capped log must load again.
func TestFeedTrimmedPastTheCursor(t *testing.T) {
	srv := redistest.Start(t)
	s, err := New(t.Context(), Options{URL: srv.URL(), ChangeLogLength: 10})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := s.InitEpoch(ctx, "e1"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAccessToken(ctx, "first", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	epoch, cursor, err := s.LoadRevocations(ctx, time.Now(), func(store.RevocationEvent) {})
	if err != nil {
		t.Fatal(err)
	}
	// MAXLEN ~ trims whole stream nodes (100 entries each by default).
	for i := range 400 {
		if err := s.RevokeAccessToken(ctx, fmt.Sprint("j", i), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Client().XLen(ctx, s.keys.changeLog()).Val(); n >= 400 {
		t.Fatalf("the log was not capped: %d entries", n)
	}
	if _, _, err := s.ReadRevocations(ctx, epoch, cursor, 0); !errors.Is(err, store.ErrFeedReset) {
		t.Fatalf("read behind the trimmed log: %v, want ErrFeedReset", err)
	}
	// A reader that is up to date is not affected by trimming.
	_, cursor, err = s.LoadRevocations(ctx, time.Now(), func(store.RevocationEvent) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAccessToken(ctx, "last", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	es, _, err := s.ReadRevocations(ctx, epoch, cursor, 0)
	if err != nil || len(es) != 1 || es[0].JTI != "last" {
		t.Fatalf("read after reload: %v %v", es, err)
	}
}

// A store that went back in time under the same epoch (restored from an
// old snapshot, failed over to a lagging replica) is reported as rolled
// back, never as "nothing new".
func TestFeedRolledBack(t *testing.T) {
	srv := redistest.Start(t)
	s, err := New(t.Context(), Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, c := t.Context(), srv.Client()
	if _, err := s.InitEpoch(ctx, "e1"); err != nil {
		t.Fatal(err)
	}
	for _, jti := range []string{"j1", "j2"} {
		if err := s.RevokeAccessToken(ctx, jti, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	epoch, cursor, err := s.LoadRevocations(ctx, time.Now(), func(store.RevocationEvent) {})
	if err != nil {
		t.Fatal(err)
	}

	// The log as it was before j2: an older ID is the last one.
	c.Del(ctx, s.keys.changeLog())
	c.XAdd(ctx, &goredis.XAddArgs{Stream: s.keys.changeLog(), ID: "1-1", Values: []string{"k", "j", "id", "j1", "t", "1"}})
	if _, _, err := s.ReadRevocations(ctx, epoch, cursor, 0); !errors.Is(err, store.ErrRolledBack) {
		t.Fatalf("read after a rollback: %v, want ErrRolledBack", err)
	}
	// No log at all, with the epoch still there: a snapshot from before any
	// change.
	c.Del(ctx, s.keys.changeLog())
	if _, _, err := s.ReadRevocations(ctx, epoch, cursor, 0); !errors.Is(err, store.ErrRolledBack) {
		t.Fatalf("read after the log vanished: %v, want ErrRolledBack", err)
	}
	// An empty store (no epoch) is a reset, not a rollback.
	c.FlushAll(ctx)
	if _, _, err := s.ReadRevocations(ctx, epoch, cursor, 0); !errors.Is(err, store.ErrFeedReset) {
		t.Fatalf("read after FLUSHALL: %v, want ErrFeedReset", err)
	}
}

// An unreadable state in Redis loads as "no such user", which rejects the
// user's tokens, rather than as a user without restrictions.
func TestFeedUnreadableStateRejects(t *testing.T) {
	srv := redistest.Start(t)
	s := NewFromClient(srv.Client(), "")
	ctx := t.Context()
	srv.Client().HSet(ctx, s.keys.userStates(), "mallory", "{not json")
	var got []store.RevocationEvent
	if _, _, err := s.LoadRevocations(ctx, time.Now(), func(e store.RevocationEvent) { got = append(got, e) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("loaded %+v", got)
	}
}

// The user's state is written before the record, so a failed state write
// leaves the old record, which makes the controller retry (it compares
// records): a disable can never be stored in the record and lost for the
// mirrors. The failure is made real by giving the state key a wrong type.
func TestPutUserStateFirst(t *testing.T) {
	srv := redistest.Start(t)
	s := NewFromClient(srv.Client(), "")
	ctx, c := t.Context(), srv.Client()
	if err := s.PutUser(ctx, store.User{Username: "alice", Source: "ns/alice"}); err != nil {
		t.Fatal(err)
	}
	states := s.keys.userStates()
	saved := c.Dump(ctx, states).Val()
	c.Del(ctx, states)
	c.Set(ctx, states, "not a hash", 0)
	if err := s.PutUser(ctx, store.User{Username: "alice", Source: "ns/alice", Disabled: true}); err == nil {
		t.Fatal("PutUser succeeded with the state unwritable")
	}
	if u, _ := s.GetUser(ctx, "alice"); u.Disabled {
		t.Fatal("the record was written although its state was not")
	}
	// Deletes too: the state goes first, and a failure keeps the record.
	if _, err := s.DeleteUserFrom(ctx, "alice", "ns/alice"); err == nil {
		t.Fatal("DeleteUserFrom succeeded with the state unwritable")
	}
	if _, err := s.GetUser(ctx, "alice"); err != nil {
		t.Fatalf("the record went although its state did not: %v", err)
	}
	c.Del(ctx, states)
	c.Restore(ctx, states, 0, saved)
	if err := s.PutUser(ctx, store.User{Username: "alice", Source: "ns/alice", Disabled: true}); err != nil {
		t.Fatal(err)
	}
	var got []store.RevocationEvent
	if _, _, err := s.LoadRevocations(ctx, time.Now(), func(e store.RevocationEvent) { got = append(got, e) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].User == nil || !got[0].User.Disabled {
		t.Fatalf("state after the retry: %+v", got)
	}
}

// A reader that has seen a change the store then lost (a restore from an
// older snapshot, or a failover to a lagging replica) is told so even when
// newer changes were written before it read again: the entry at its cursor
// is gone.
func TestFeedRolledBackThenWritten(t *testing.T) {
	srv := redistest.Start(t)
	s := NewFromClient(srv.Client(), "")
	ctx, c := t.Context(), srv.Client()
	if _, err := s.InitEpoch(ctx, "e1"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAccessToken(ctx, "j0", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	snapshot := map[string]string{}
	for _, k := range c.Keys(ctx, "*").Val() {
		snapshot[k] = c.Dump(ctx, k).Val()
	}
	epoch, cursor, err := s.LoadRevocations(ctx, time.Now(), func(store.RevocationEvent) {})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAccessToken(ctx, "j1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, cursor, err = s.ReadRevocations(ctx, epoch, cursor, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Back to the snapshot: j1 and its log entry are lost.
	c.FlushAll(ctx)
	for k, v := range snapshot {
		c.Restore(ctx, k, 0, v)
	}
	time.Sleep(2 * time.Millisecond) // the next entry gets a later millisecond
	if err := s.RevokeAccessToken(ctx, "j2", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ReadRevocations(ctx, epoch, cursor, 0); !errors.Is(err, store.ErrRolledBack) {
		t.Fatalf("read after a rollback and a newer write: %v, want ErrRolledBack", err)
	}
}
