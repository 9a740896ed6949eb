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
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// describe renders an event for comparison: times in UTC milliseconds.
func describe(e store.RevocationEvent) string {
	switch {
	case e.JTI != "":
		return fmt.Sprintf("jti %s until %d", e.JTI, e.Until.UnixMilli())
	case e.Grant != "":
		return fmt.Sprintf("grant %s until %d", e.Grant, e.Until.UnixMilli())
	case e.User == nil:
		return "user " + e.Username + " gone"
	}
	nbf := int64(0)
	if !e.User.NotBefore.IsZero() {
		nbf = e.User.NotBefore.UnixNano()
	}
	return fmt.Sprintf("user %s nbf %d disabled %v", e.Username, nbf, e.User.Disabled)
}

func describeAll(es []store.RevocationEvent) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, describe(e))
	}
	return out
}

func load(t *testing.T, s Store, now time.Time) (epoch, cursor string, got []string) {
	t.Helper()
	epoch, cursor, err := s.LoadRevocations(t.Context(), now, func(e store.RevocationEvent) {
		got = append(got, describe(e))
	})
	must(t, "LoadRevocations", err)
	sort.Strings(got)
	return epoch, cursor, got
}

func read(t *testing.T, s Store, epoch, cursor string) ([]string, string) {
	t.Helper()
	es, next, err := s.ReadRevocations(t.Context(), epoch, cursor, 0)
	must(t, "ReadRevocations", err)
	return describeAll(es), next
}

func wantStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func testFeedLoad(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now().Truncate(time.Second)
	epoch, _, got := load(t, s, now)
	if epoch != "" || len(got) != 0 {
		t.Fatalf("empty store: epoch %q, state %q", epoch, got)
	}
	_, err := s.InitEpoch(ctx, "e1")
	must(t, "InitEpoch", err)
	nbf := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	must(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, "j1", now.Add(time.Hour)))
	must(t, "RevokeAccessToken expired", s.RevokeAccessToken(ctx, "j0", now.Add(-time.Second)))
	must(t, "RevokeGrant", s.RevokeGrant(ctx, "g1", now.Add(2*time.Hour)))
	must(t, "PutUser", s.PutUser(ctx, store.User{Username: "alice", NotBefore: nbf, Source: "ns/alice"}))
	must(t, "PutUser", s.PutUser(ctx, store.User{Username: "carol", Disabled: true}))
	must(t, "PutUser", s.PutUser(ctx, store.User{Username: "gone"}))
	must(t, "DeleteUser", s.DeleteUser(ctx, "gone"))

	epoch, _, got = load(t, s, now)
	if epoch != "e1" {
		t.Fatalf("epoch %q, want e1", epoch)
	}
	wantStrings(t, "loaded state", got, []string{
		fmt.Sprintf("grant g1 until %d", now.Add(2*time.Hour).UnixMilli()),
		fmt.Sprintf("jti j1 until %d", now.Add(time.Hour).UnixMilli()),
		fmt.Sprintf("user alice nbf %d disabled false", nbf.UnixNano()),
		"user carol nbf 0 disabled true",
	})
	// Revocations that have run out by now are not loaded.
	_, _, got = load(t, s, now.Add(90*time.Minute))
	for _, g := range got {
		if g[:3] == "jti" {
			t.Fatalf("a revocation past its end was loaded: %q", g)
		}
	}
}

func testFeedRead(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now().Truncate(time.Second)
	_, err := s.InitEpoch(ctx, "e1")
	must(t, "InitEpoch", err)
	alice := store.User{Username: "alice", PasswordHash: "h1", Source: "ns/alice"}
	must(t, "PutUser", s.PutUser(ctx, alice))
	epoch, cursor, _ := load(t, s, now)
	if got, next := read(t, s, epoch, cursor); len(got) != 0 || next != cursor {
		t.Fatalf("read right after load: %q, cursor %q → %q", got, cursor, next)
	}

	// Changes that do not touch the state are not logged: a new password
	// hash alone (the controller sets not-before with it), scopes, groups.
	alice.PasswordHash, alice.Scopes = "h2", []string{"read"}
	must(t, "PutUser unchanged state", s.PutUser(ctx, alice))
	nbf := now.Add(-time.Minute)
	alice.NotBefore = nbf
	must(t, "PutUser not-before", s.PutUser(ctx, alice))
	must(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, "j1", now.Add(time.Hour)))
	// Revoking again, for no longer, changes nothing.
	must(t, "RevokeAccessToken again", s.RevokeAccessToken(ctx, "j1", now.Add(time.Hour)))
	must(t, "RevokeGrant", s.RevokeGrant(ctx, "g{1}", now.Add(time.Hour)))
	alice.Disabled = true
	must(t, "PutUser disabled", s.PutUser(ctx, alice))
	must(t, "PutUser bob", s.PutUser(ctx, store.User{Username: "bob"}))
	must(t, "DeleteUser missing", s.DeleteUser(ctx, "nobody"))
	must(t, "DeleteUser bob", s.DeleteUser(ctx, "bob"))

	want := []string{
		fmt.Sprintf("user alice nbf %d disabled false", nbf.UnixNano()),
		fmt.Sprintf("jti j1 until %d", now.Add(time.Hour).UnixMilli()),
		fmt.Sprintf("grant g{1} until %d", now.Add(time.Hour).UnixMilli()),
		fmt.Sprintf("user alice nbf %d disabled true", nbf.UnixNano()),
		"user bob nbf 0 disabled false",
		"user bob gone",
	}
	got, next := read(t, s, epoch, cursor)
	wantStrings(t, "changes", got, want)
	if got, again := read(t, s, epoch, next); len(got) != 0 || again != next {
		t.Fatalf("read after the end: %q, cursor %q → %q", got, next, again)
	}
	// max bounds a batch; the cursor continues where it stopped.
	es, mid, err := s.ReadRevocations(ctx, epoch, cursor, 2)
	must(t, "ReadRevocations max 2", err)
	wantStrings(t, "first batch", describeAll(es), want[:2])
	got, end := read(t, s, epoch, mid)
	wantStrings(t, "second batch", got, want[2:])
	if end != next {
		t.Fatalf("cursor after two batches %q, after one %q", end, next)
	}
}

func testFeedUserOwnership(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.InitEpoch(ctx, "e1")
	must(t, "InitEpoch", err)
	must(t, "PutUser", s.PutUser(ctx, store.User{Username: "alice", Source: "ns/a"}))
	epoch, cursor, _ := load(t, s, time.Now())
	// Another resource's delete neither removes the record nor its state.
	ok, err := s.DeleteUserFrom(ctx, "alice", "ns/b")
	must(t, "DeleteUserFrom other", err)
	if ok {
		t.Fatal("DeleteUserFrom deleted another source's record")
	}
	got, cursor2 := read(t, s, epoch, cursor)
	wantStrings(t, "after a foreign delete", got, nil)
	ok, err = s.DeleteUserFrom(ctx, "alice", "ns/a")
	must(t, "DeleteUserFrom owner", err)
	if !ok {
		t.Fatal("DeleteUserFrom did not delete the owner's record")
	}
	got, _ = read(t, s, epoch, cursor2)
	wantStrings(t, "after the owner's delete", got, []string{"user alice gone"})
	_, _, state := load(t, s, time.Now())
	wantStrings(t, "state after delete", state, nil)
}

func testFeedReset(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.InitEpoch(ctx, "e1")
	must(t, "InitEpoch", err)
	must(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, "j1", time.Now().Add(time.Hour)))
	epoch, cursor, _ := load(t, s, time.Now())
	if _, _, err := s.ReadRevocations(ctx, "another", cursor, 0); !isReset(err) {
		t.Fatalf("read with another epoch: %v, want ErrFeedReset", err)
	}
	_, err = s.ReplaceEpoch(ctx, epoch, "e2")
	must(t, "ReplaceEpoch", err)
	if _, _, err := s.ReadRevocations(ctx, epoch, cursor, 0); !isReset(err) {
		t.Fatalf("read after the epoch changed: %v, want ErrFeedReset", err)
	}
	if _, _, err := s.ReadRevocations(ctx, "e2", "not a cursor", 0); !isReset(err) {
		t.Fatalf("read with a malformed cursor: %v, want ErrFeedReset", err)
	}
	epoch, _, got := load(t, s, time.Now())
	if epoch != "e2" || len(got) != 1 {
		t.Fatalf("load after the epoch changed: %q %q", epoch, got)
	}
}

func isReset(err error) bool { return err != nil && errors.Is(err, store.ErrFeedReset) }

func testFeedWait(t *testing.T, s Store) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := s.InitEpoch(ctx, "e1")
	must(t, "InitEpoch", err)
	epoch, cursor, _ := load(t, s, time.Now())
	// Nothing after the cursor: the wait runs out.
	must(t, "WaitRevocations idle", s.WaitRevocations(ctx, cursor, 50*time.Millisecond))
	// A change made while waiting ends the wait long before it would run out.
	done := make(chan error, 1)
	go func() { done <- s.WaitRevocations(ctx, cursor, time.Minute) }()
	time.Sleep(50 * time.Millisecond)
	must(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, "j1", time.Now().Add(time.Hour)))
	select {
	case err := <-done:
		must(t, "WaitRevocations", err)
	case <-ctx.Done():
		t.Fatal("WaitRevocations did not return after a change")
	}
	// A change already there: no wait at all.
	must(t, "WaitRevocations pending", s.WaitRevocations(ctx, cursor, time.Minute))
	if ctx.Err() != nil {
		t.Fatal("WaitRevocations waited with a change pending")
	}
	got, _ := read(t, s, epoch, cursor)
	if len(got) != 1 {
		t.Fatalf("changes %q", got)
	}
}

// Changes from many writers at once are all logged, each once.
func testFeedConcurrentWriters(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.InitEpoch(ctx, "e1")
	must(t, "InitEpoch", err)
	epoch, cursor, _ := load(t, s, time.Now())
	const writers, each = 8, 25
	exp := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				errs <- s.RevokeAccessToken(ctx, fmt.Sprintf("w%d-%d", w, i), exp)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "RevokeAccessToken", err)
	}
	seen := map[string]int{}
	for {
		es, next, err := s.ReadRevocations(ctx, epoch, cursor, 37)
		must(t, "ReadRevocations", err)
		if len(es) == 0 {
			break
		}
		for _, e := range es {
			seen[e.JTI]++
		}
		cursor = next
	}
	if len(seen) != writers*each {
		t.Fatalf("%d distinct revocations logged, want %d", len(seen), writers*each)
	}
	for jti, n := range seen {
		if n != 1 {
			t.Fatalf("%s logged %d times", jti, n)
		}
	}
}

// testFeedClientState: a client's not-before reaches the feed under
// store.ClientSubject, as a user's state does, so that the mirror refuses
// tokens issued to a client that changed its credential or is gone.
func testFeedClientState(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.InitEpoch(ctx, "e1")
	must(t, "InitEpoch", err)
	nb := time.Now().Truncate(time.Millisecond)
	c := sampleClient("batch")
	c.NotBefore = nb
	must(t, "PutClient", s.PutClient(ctx, c))
	epoch, cursor, state := load(t, s, time.Now())
	wantStrings(t, "state", state, []string{fmt.Sprintf("user client:batch nbf %d disabled false", nb.UnixNano())})

	// A change of anything else is not a state change.
	c.Scopes = []string{"read", "write"}
	must(t, "PutClient scopes", s.PutClient(ctx, c))
	got, cursor := read(t, s, epoch, cursor)
	wantStrings(t, "after a scope change", got, nil)

	c.NotBefore = nb.Add(time.Second)
	must(t, "PutClient not-before", s.PutClient(ctx, c))
	got, cursor = read(t, s, epoch, cursor)
	wantStrings(t, "after the not-before moved", got, []string{
		fmt.Sprintf("user client:batch nbf %d disabled false", c.NotBefore.UnixNano())})

	// Another resource's delete leaves it; the owner's removes it.
	ok, err := s.DeleteClientFrom(ctx, "batch", "ns/other")
	must(t, "DeleteClientFrom other", err)
	if ok {
		t.Fatal("DeleteClientFrom deleted another source's registration")
	}
	ok, err = s.DeleteClientFrom(ctx, "batch", c.Source)
	must(t, "DeleteClientFrom owner", err)
	if !ok {
		t.Fatal("DeleteClientFrom did not delete the owner's registration")
	}
	got, _ = read(t, s, epoch, cursor)
	wantStrings(t, "after the owner's delete", got, []string{"user client:batch gone"})
	_, _, state = load(t, s, time.Now())
	wantStrings(t, "state after delete", state, nil)

	// A user and a client of the same name are two states.
	must(t, "PutUser", s.PutUser(ctx, store.User{Username: "batch", Source: "ns/u"}))
	must(t, "PutClient", s.PutClient(ctx, c))
	_, _, state = load(t, s, time.Now())
	wantStrings(t, "user and client", state, []string{
		fmt.Sprintf("user batch nbf %d disabled false", 0),
		fmt.Sprintf("user client:batch nbf %d disabled false", c.NotBefore.UnixNano())})
	must(t, "DeleteClient", s.DeleteClient(ctx, "batch"))
	_, _, state = load(t, s, time.Now())
	wantStrings(t, "after DeleteClient", state, []string{fmt.Sprintf("user batch nbf %d disabled false", 0)})
}

// Every change read from the feed carries when it was written, by the
// store's clock to the millisecond (Redis: its stream entry's ID), which
// the mirrors measure propagation by; the pieces of a load are not changes
// and carry none.
func testFeedWriteTime(t *testing.T, s Store) {
	ctx := t.Context()
	_, err := s.InitEpoch(ctx, "e1")
	must(t, "InitEpoch", err)
	epoch, cursor, _ := load(t, s, time.Now())
	before := time.Now().Truncate(time.Millisecond)
	must(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, "j1", before.Add(time.Hour)))
	must(t, "RevokeGrant", s.RevokeGrant(ctx, "g1", before.Add(time.Hour)))
	must(t, "PutUser", s.PutUser(ctx, store.User{Username: "alice", Disabled: true}))
	after := time.Now()
	es, _, err := s.ReadRevocations(ctx, epoch, cursor, 0)
	must(t, "ReadRevocations", err)
	if len(es) != 3 {
		t.Fatalf("changes: %q", describeAll(es))
	}
	for _, e := range es {
		if e.Written.Before(before) || e.Written.After(after) {
			t.Errorf("%s: written at %v, not between %v and %v", describe(e), e.Written, before, after)
		}
	}
	_, _, err = s.LoadRevocations(ctx, time.Now(), func(e store.RevocationEvent) {
		if !e.Written.IsZero() {
			t.Errorf("loaded %s with a write time %v", describe(e), e.Written)
		}
	})
	must(t, "LoadRevocations", err)
}
