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
	"errors"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// newSession returns a session whose generation-0 token ("h0") was issued
// at now and works for an hour.
func newSession(id string, now time.Time) store.Session {
	now = now.Truncate(time.Millisecond)
	return store.Session{
		ID: id, ClientID: "web", ClientSource: "ns/web", Username: "alice", Scopes: []string{"read", "offline_access"},
		AuthTime: now.Add(-time.Minute).Truncate(time.Second), Credential: store.CredentialMark(now.Add(-time.Hour)),
		Epoch: "e1", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour),
		TokenHash: "h0", TokenExpiresAt: now.Add(time.Hour), AccessExpiresAt: now.Add(15 * time.Minute),
	}
}

// normSession makes sessions comparable across backends: times in UTC to
// the millisecond, as every backend keeps them at least.
func normSession(s store.Session) store.Session {
	ms := func(t time.Time) time.Time { return utc(t.Truncate(time.Millisecond)) }
	s.Scopes = nilIfEmpty(s.Scopes)
	s.AuthTime, s.CreatedAt, s.ExpiresAt = ms(s.AuthTime), ms(s.CreatedAt), ms(s.ExpiresAt)
	s.TokenExpiresAt, s.AccessExpiresAt = ms(s.TokenExpiresAt), ms(s.AccessExpiresAt)
	return s
}

func checkSession(t *testing.T, what string, got, want store.Session) {
	t.Helper()
	if g, w := normSession(got), normSession(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("%s: session mismatch:\n got %+v\nwant %+v", what, g, w)
	}
}

// rotation presents generation gen with hash and asks for the next token,
// good for an hour from now.
func rotation(gen uint64, hash, next string, now time.Time) store.Rotation {
	return store.Rotation{Generation: gen, TokenHash: hash, NextHash: next,
		NextExpiresAt: now.Add(time.Hour), AccessExpiresAt: now.Add(15 * time.Minute)}
}

func rotateOK(t *testing.T, s Store, id string, r store.Rotation, now time.Time) store.Session {
	t.Helper()
	got, err := s.RotateSession(t.Context(), id, r, now)
	must(t, "RotateSession", err)
	return got
}

func rotateErr(t *testing.T, s Store, id string, r store.Rotation, now time.Time, target error) store.Session {
	t.Helper()
	got, err := s.RotateSession(t.Context(), id, r, now)
	wantErr(t, "RotateSession", err, target)
	return got
}

func testSessionCreateGet(t *testing.T, s Store) {
	ctx, now := t.Context(), time.Now()
	sess := newSession("s1", now)
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	wantErr(t, "CreateSession duplicate", s.CreateSession(ctx, newSession("s1", now)), store.ErrAlreadyExists)
	got, err := s.GetSession(ctx, "s1")
	must(t, "GetSession", err)
	checkSession(t, "GetSession", got, sess)
	_, err = s.GetSession(ctx, "missing")
	wantErr(t, "GetSession missing", err, store.ErrNotFound)
	// The caller's copy is not the store's.
	sess.Scopes[0] = "mutated"
	got, _ = s.GetSession(ctx, "s1")
	if got.Scopes[0] != "read" {
		t.Fatal("the store shares the scopes slice with its caller")
	}
}

// Each rotation moves the generation on, replaces the token and keeps one
// record: what it returns is the session as it was before.
func testSessionRotate(t *testing.T, s Store) {
	ctx, now := t.Context(), time.Now()
	sess := newSession("s1", now)
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	before := rotateOK(t, s, "s1", rotation(0, "h0", "h1", now.Add(time.Minute)), now.Add(time.Minute))
	checkSession(t, "RotateSession's answer", before, sess)
	got, err := s.GetSession(ctx, "s1")
	must(t, "GetSession", err)
	want := sess
	want.Generation, want.TokenHash = 1, "h1"
	want.TokenExpiresAt = now.Add(time.Minute).Add(time.Hour)
	want.AccessExpiresAt = now.Add(time.Minute).Add(15 * time.Minute)
	checkSession(t, "after a rotation", got, want)
	for g := uint64(1); g < 50; g++ {
		rotateOK(t, s, "s1", rotation(g, hashOf(g), hashOf(g+1), now), now)
	}
	got, _ = s.GetSession(ctx, "s1")
	if got.Generation != 50 {
		t.Fatalf("generation %d after 50 rotations", got.Generation)
	}
	// An access-token expiry never moves back.
	r := rotation(50, hashOf(50), hashOf(51), now)
	r.AccessExpiresAt = now.Add(-time.Hour)
	rotateOK(t, s, "s1", r, now)
	got, _ = s.GetSession(ctx, "s1")
	if !got.AccessExpiresAt.After(now) {
		t.Fatalf("AccessExpiresAt moved back to %v", got.AccessExpiresAt)
	}
}

// A rotation sent again as it was (the same presented token and the same
// next hash: a client library's retry after a reply it never read) is the
// same rotation: it answers as the first did and neither revokes the
// session as a reuse nor counts against its rate limit. Only the server
// that drew the next token knows its hash, so no client can forge this.
func testSessionRotateRetried(t *testing.T, s Store) {
	ctx, now := t.Context(), time.Now()
	sess := newSession("s1", now)
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	r := rotation(0, "h0", "h1", now)
	r.MaxPerWindow, r.Window = 1, time.Hour
	first := rotateOK(t, s, "s1", r, now)
	again := rotateOK(t, s, "s1", r, now)
	checkSession(t, "the retried rotation's answer", again, first)
	got, err := s.GetSession(ctx, "s1")
	must(t, "GetSession", err)
	if got.Revoked || got.Generation != 1 || got.TokenHash != "h1" {
		t.Fatalf("a retried rotation changed the session: %+v", got)
	}
	// The old token with another next token is still a reuse.
	rotateErr(t, s, "s1", rotation(0, "h0", "h9", now), now, store.ErrTokenReused)
}

// hashOf names the token hash of generation g in these tests ("h0", "h1"…).
func hashOf(g uint64) string { return "h" + strconv.FormatUint(g, 10) }

// Presenting an earlier generation is reuse: the session is revoked, for
// every later presentation too; a wrong hash or a later generation is
// merely not the current token, and changes nothing.
func testSessionReuseRevokes(t *testing.T, s Store) {
	ctx, now := t.Context(), time.Now()
	must(t, "CreateSession", s.CreateSession(ctx, newSession("s1", now)))
	must(t, "CreateSession", s.CreateSession(ctx, newSession("other", now)))
	rotateOK(t, s, "s1", rotation(0, "h0", "h1", now), now)

	rotateErr(t, s, "s1", rotation(1, "wrong", "x", now), now, store.ErrNotFound)
	rotateErr(t, s, "s1", rotation(7, "h1", "x", now), now, store.ErrNotFound)
	rotateErr(t, s, "missing", rotation(0, "h0", "x", now), now, store.ErrNotFound)
	got, _ := s.GetSession(ctx, "s1")
	if got.Revoked || got.Generation != 1 {
		t.Fatalf("a token that is not the current one changed the session: %+v", got)
	}

	reused := rotateErr(t, s, "s1", rotation(0, "h0", "x", now), now, store.ErrTokenReused)
	if reused.ID != "s1" || reused.ClientID != "web" {
		t.Fatalf("reuse returned %+v; want the session, to revoke its access tokens", reused)
	}
	revoked := rotateErr(t, s, "s1", rotation(1, "h1", "h2", now), now, store.ErrNotFound)
	if !revoked.Revoked || revoked.ID != "s1" {
		t.Fatalf("the current token of a session revoked by reuse: %+v", revoked)
	}
	got, err := s.GetSession(ctx, "s1")
	must(t, "GetSession revoked", err)
	if !got.Revoked {
		t.Fatal("GetSession does not report the session revoked")
	}
	rotateOK(t, s, "other", rotation(0, "h0", "h1", now), now)
}

// A session whose current token expired cannot be rotated, and a failed
// rotation does not consume the token.
func testSessionExpiry(t *testing.T, s Store) {
	ctx, now := t.Context(), time.Now()
	sess := newSession("s1", now)
	must(t, "CreateSession", s.CreateSession(ctx, sess))
	rotateErr(t, s, "s1", rotation(0, "h0", "h1", now), sess.TokenExpiresAt, store.ErrNotFound)
	rotateErr(t, s, "s1", rotation(0, "h0", "h1", now), sess.TokenExpiresAt.Add(time.Hour), store.ErrNotFound)
	rotateOK(t, s, "s1", rotation(0, "h0", "h1", now), sess.TokenExpiresAt.Add(-time.Millisecond))
	// An old token after the current one expired is "expired", not reuse.
	got, _ := s.GetSession(ctx, "s1")
	rotateErr(t, s, "s1", rotation(0, "h0", "h1", now), got.TokenExpiresAt, store.ErrNotFound)
	got, _ = s.GetSession(ctx, "s1")
	if got.Revoked {
		t.Fatal("an old token presented after expiry revoked the session")
	}
}

func testSessionRevoke(t *testing.T, s Store) {
	ctx, now := t.Context(), time.Now()
	must(t, "CreateSession", s.CreateSession(ctx, newSession("s1", now)))
	must(t, "CreateSession", s.CreateSession(ctx, newSession("other", now)))
	revoked, err := s.RevokeSession(ctx, "s1")
	must(t, "RevokeSession", err)
	want := newSession("s1", now)
	want.Revoked = true
	checkSession(t, "RevokeSession's answer", revoked, want)
	again, err := s.RevokeSession(ctx, "s1")
	must(t, "RevokeSession again", err)
	checkSession(t, "RevokeSession again", again, want)
	_, err = s.RevokeSession(ctx, "unknown")
	wantErr(t, "RevokeSession unknown", err, store.ErrNotFound)
	got := rotateErr(t, s, "s1", rotation(0, "h0", "h1", now), now, store.ErrNotFound)
	if !got.Revoked || got.ID != "s1" {
		t.Fatalf("rotating a revoked session: %+v", got)
	}
	if _, err := s.GetSession(ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoking an unknown session created it: %v", err)
	}
	rotateOK(t, s, "other", rotation(0, "h0", "h1", now), now)
}

// At most MaxPerWindow rotations per window; a refused one changes nothing
// and says when the window ends.
func testSessionRateLimit(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now().Truncate(time.Minute) // a window boundary
	must(t, "CreateSession", s.CreateSession(ctx, newSession("s1", now)))
	limited := func(g uint64, at time.Time) store.Rotation {
		r := rotation(g, hashOf(g), hashOf(g+1), at)
		r.MaxPerWindow, r.Window = 3, time.Minute
		return r
	}
	rotateOK(t, s, "s1", limited(0, now), now.Add(time.Second))
	rotateOK(t, s, "s1", limited(1, now), now.Add(2*time.Second))
	rotateOK(t, s, "s1", limited(2, now), now.Add(3*time.Second))
	_, err := s.RotateSession(ctx, "s1", limited(3, now), now.Add(20*time.Second))
	var rl *store.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, store.ErrRateLimited) || rl.RetryAfter != 40*time.Second {
		t.Fatalf("a fourth rotation in the window: %v, want a rate limit with 40s to wait", err)
	}
	got, _ := s.GetSession(ctx, "s1")
	if got.Generation != 3 || got.Revoked {
		t.Fatalf("a limited rotation changed the session: %+v", got)
	}
	rotateOK(t, s, "s1", limited(3, now), now.Add(time.Minute))
}

// 20 rotations race with one token, each with its own next token (as
// each request draws one): exactly one wins; the others are reuse (the
// session is then revoked) or find it revoked.
func testSessionConcurrentRotate(t *testing.T, s Store) {
	const n = 20
	now := time.Now()
	must(t, "CreateSession", s.CreateSession(t.Context(), newSession("s1", now)))
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = s.RotateSession(t.Context(), "s1", rotation(0, "h0", "next"+strconv.Itoa(i), now), now)
		})
	}
	close(start)
	wg.Wait()
	var ok, reused, notFound int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrTokenReused):
			reused++
		case errors.Is(err, store.ErrNotFound):
			notFound++
		default:
			t.Errorf("RotateSession: unexpected error %v", err)
		}
	}
	if ok != 1 || reused != 1 || notFound != n-2 {
		t.Fatalf("%d concurrent rotations: %d ok, %d reused, %d not found; want 1, 1, %d", n, ok, reused, notFound, n-2)
	}
}

// A user's sessions beyond the limit are returned, the soonest to expire
// first, and no longer counted; expired ones are forgotten; other users'
// are apart.
func testUserSessions(t *testing.T, s Store) {
	ctx, now := t.Context(), time.Now().Truncate(time.Millisecond)
	add := func(user, id string, ttl time.Duration, max int) []string {
		t.Helper()
		evicted, err := s.AddUserSession(ctx, user, id, now.Add(ttl), max, now)
		must(t, "AddUserSession", err)
		return evicted
	}
	for i, ttl := range []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour} {
		if got := add("alice", "s"+string(rune('1'+i)), ttl, 3); len(got) != 0 {
			t.Fatalf("within the limit: evicted %v", got)
		}
	}
	if got := add("bob", "b1", time.Hour, 3); len(got) != 0 {
		t.Fatalf("another user's first session: evicted %v", got)
	}
	if got := add("alice", "s4", 4*time.Hour, 3); !reflect.DeepEqual(got, []string{"s2"}) {
		t.Fatalf("a fourth session: evicted %v, want the one expiring first (s2)", got)
	}
	if got := add("alice", "s5", 5*time.Hour, 2); !reflect.DeepEqual(got, []string{"s3", "s1"}) {
		t.Fatalf("a lower limit: evicted %v, want s3 and s1", got)
	}
	if got := add("alice", "s6", time.Hour, 0); len(got) != 0 {
		t.Fatalf("no limit: evicted %v", got)
	}
	// Expired sessions are not counted.
	later, err := s.AddUserSession(ctx, "bob", "b2", now.Add(3*time.Hour), 1, now.Add(2*time.Hour))
	must(t, "AddUserSession", err)
	if len(later) != 0 {
		t.Fatalf("an expired session was counted: evicted %v", later)
	}
}
