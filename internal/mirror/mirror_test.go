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

package mirror_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	goredis "github.com/redis/go-redis/v9"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/internal/mirror"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/conformance"
	"github.com/authstack/authstack/internal/store/memory"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	goredis.SetLogger(quietLogger{})
	m.Run()
}

// start runs a mirror on feed until the test ends and waits for its load.
func start(t *testing.T, feed mirror.Feed, opts mirror.Options) *mirror.Mirror {
	t.Helper()
	opts.Feed = feed
	m := mirror.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	authtest.Eventually(t, "first load", func() bool { return m.Fresh() })
	return m
}

func claims(m *mirror.Mirror, sub, jti, sid string, iat time.Time) *accesstoken.Claims {
	epoch, _ := m.Epoch()
	return &accesstoken.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: sub, ID: jti, IssuedAt: jwt.NewNumericDate(iat)},
		SessionID:        sid, Epoch: epoch,
	}
}

func revoked(err error) bool { return errors.Is(err, accesstoken.ErrInvalidToken) }

// The mirror's answers on every kind of change, on both backends.
func TestMirrorFollowsChanges(t *testing.T) {
	srv := redistest.Start(t)
	for name, newFeed := range map[string]func(t *testing.T) mirror.Feed{
		"memory": func(*testing.T) mirror.Feed { return memory.New() },
		"redis": func(t *testing.T) mirror.Feed {
			s, err := redisstore.New(t.Context(), redisstore.Options{URL: srv.URL(), KeyPrefix: t.Name()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			feed := newFeed(t)
			st := feed.(conformance.Store)
			ctx := t.Context()
			if err := st.PutUser(ctx, store.User{Username: "alice"}); err != nil {
				t.Fatal(err)
			}
			m := start(t, feed, mirror.Options{})
			iat := time.Now().Add(-time.Minute)
			tok := claims(m, "alice", "AAAAAAAAAAAAAAAAAAAAAA", "s1", iat)
			if err := m.Check(tok); err != nil {
				t.Fatalf("fresh token: %v", err)
			}
			if err := m.Check(claims(m, "nobody", "j", "", iat)); !revoked(err) {
				t.Fatalf("token of an unknown user: %v", err)
			}
			other := *tok
			other.Epoch = "an earlier epoch"
			if err := m.Check(&other); !revoked(err) {
				t.Fatalf("token of another epoch: %v", err)
			}

			// A jti (compact form) and a sid (any form).
			if err := st.RevokeAccessToken(ctx, tok.ID, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			authtest.Eventually(t, "jti revocation", func() bool { return revoked(m.Check(tok)) })
			tok2 := claims(m, "alice", "j2", "s{2}", iat)
			if err := m.Check(tok2); err != nil {
				t.Fatal(err)
			}
			if err := st.RevokeGrant(ctx, "s{2}", time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			authtest.Eventually(t, "grant revocation", func() bool { return revoked(m.Check(tok2)) })

			// Not-before: tokens from before (and from its second) die.
			tok3 := claims(m, "alice", "j3", "s3", time.Now().Add(-time.Second))
			nbf := time.Now()
			if err := st.PutUser(ctx, store.User{Username: "alice", NotBefore: nbf}); err != nil {
				t.Fatal(err)
			}
			authtest.Eventually(t, "not-before", func() bool { return revoked(m.Check(tok3)) })
			if err := m.Check(claims(m, "alice", "j4", "s4", nbf.Truncate(time.Second))); !revoked(err) {
				t.Fatalf("token from the not-before second: %v", err)
			}
			later := claims(m, "alice", "j5", "s5", nbf.Add(2*time.Second))
			if err := m.Check(later); err != nil {
				t.Fatalf("token after not-before: %v", err)
			}
			// Disabled, then deleted.
			if err := st.PutUser(ctx, store.User{Username: "alice", NotBefore: nbf, Disabled: true}); err != nil {
				t.Fatal(err)
			}
			authtest.Eventually(t, "disable", func() bool { return revoked(m.Check(later)) })
			if err := st.PutUser(ctx, store.User{Username: "alice", NotBefore: nbf}); err != nil {
				t.Fatal(err)
			}
			authtest.Eventually(t, "re-enable", func() bool { return m.Check(later) == nil })
			if err := st.DeleteUser(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			authtest.Eventually(t, "delete", func() bool { return revoked(m.Check(later)) })
			if s := m.Stats(); s.RevokedTokens != 1 || s.RevokedGrants != 1 || s.Users != 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

// A change noted locally holds at once, before the log brings it back.
func TestMirrorNote(t *testing.T) {
	st := memory.New()
	if err := st.PutUser(t.Context(), store.User{Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	m := start(t, st, mirror.Options{})
	tok := claims(m, "alice", "j1", "", time.Now())
	m.Note(store.RevocationEvent{JTI: "j1", Until: time.Now().Add(time.Hour)})
	if err := m.Check(tok); !revoked(err) {
		t.Fatalf("after Note: %v", err)
	}
}

// A revocation that ran out is still held for the leeway: a validator
// with that leeway accepts the token past its exp, so a revocation that
// stopped at exp (plus another replica's smaller skew) would let it in.
func TestMirrorHoldsRevocationsForTheLeeway(t *testing.T) {
	st := memory.New()
	if err := st.PutUser(t.Context(), store.User{Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	clock := clocktesting.NewFakePassiveClock(time.Now())
	m := start(t, st, mirror.Options{Leeway: time.Minute, Clock: clock})
	tok := claims(m, "alice", "j1", "s1", clock.Now())
	m.Note(store.RevocationEvent{JTI: "j1", Until: clock.Now().Add(time.Second)})
	m.Note(store.RevocationEvent{Grant: "s1", Until: clock.Now().Add(time.Second)})
	clock.SetTime(clock.Now().Add(30 * time.Second)) // past Until, within the leeway
	if err := m.Check(tok); !revoked(err) {
		t.Fatalf("within the leeway after Until: %v", err)
	}
	clock.SetTime(clock.Now().Add(time.Minute)) // past Until plus the leeway
	if err := m.Check(tok); err != nil {
		t.Fatalf("after Until plus the leeway: %v", err)
	}
}

// Redis gone: the mirror fails closed after the bound, never accepting;
// Redis back (empty): a new epoch, and every earlier token is refused.
func TestMirrorFailsClosedAndRecovers(t *testing.T) {
	srv := redistest.Start(t)
	s, err := redisstore.New(t.Context(), redisstore.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutUser(t.Context(), store.User{Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	m := start(t, s, mirror.Options{MaxStaleness: 300 * time.Millisecond, Retry: 20 * time.Millisecond})
	tok := claims(m, "alice", "j1", "", time.Now().Add(-time.Minute))
	if err := m.Check(tok); err != nil {
		t.Fatal(err)
	}
	if st := m.Stats(); st.SyncErrors != 0 || st.EpochChanges != 0 {
		t.Fatalf("stats before the outage %+v", st)
	}
	srv.Stop()
	authtest.Eventually(t, "staleness", func() bool { return errors.Is(m.Check(tok), mirror.ErrStale) })
	if _, err := m.Epoch(); !errors.Is(err, mirror.ErrStale) {
		t.Fatalf("Epoch while stale: %v", err)
	}
	// The failed reads are counted, traffic or not.
	if st := m.Stats(); st.SyncErrors == 0 {
		t.Fatalf("no sync error counted with Redis down: %+v", st)
	}
	// While stale, every answer is ErrStale: never nil.
	for range 20 {
		if err := m.Check(tok); !errors.Is(err, mirror.ErrStale) {
			t.Fatalf("Check while Redis is down: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.Restart() // empty: the data is lost
	authtest.Eventually(t, "recovery", func() bool { return m.Fresh() })
	if err := m.Check(tok); !revoked(err) {
		t.Fatalf("token from before the data loss: %v", err)
	}
	if st := m.Stats(); st.Reloads < 2 || st.EpochChanges != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// A store that went back in time under the same epoch gets a new epoch
// from the mirror, so revocations it lost cannot bring tokens back.
func TestMirrorReplacesTheEpochAfterARollback(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	s := redisstore.NewFromClient(c, "rb")
	ctx := t.Context()
	if err := s.PutUser(ctx, store.User{Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	m := start(t, s, mirror.Options{})
	// A snapshot of the store as it is now, with the epoch the mirror set.
	dump := map[string]string{}
	keys, _ := c.Keys(ctx, "rb:*").Result()
	for _, k := range keys {
		dump[k] = c.Dump(ctx, k).Val()
	}
	tok := claims(m, "alice", "j1", "", time.Now().Add(-time.Minute))
	if err := s.RevokeAccessToken(ctx, "j1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	authtest.Eventually(t, "revocation", func() bool { return revoked(m.Check(tok)) })
	before, _ := m.Epoch()

	// Restore the snapshot: the revocation is lost, the epoch is the same.
	c.FlushAll(ctx)
	for k, v := range dump {
		if err := c.RestoreReplace(ctx, k, 0, v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	authtest.Eventually(t, "a new epoch", func() bool { e, err := m.Epoch(); return err == nil && e != before })
	if err := m.Check(tok); !revoked(err) {
		t.Fatalf("the revoked token after the rollback: %v", err)
	}
	if st := m.Stats(); st.Rollbacks != 1 || st.EpochChanges != 1 {
		t.Fatalf("stats %+v", st)
	}
	if e, _ := s.GetEpoch(ctx); e == before {
		t.Fatal("the store's epoch was not replaced")
	}
}

// slowLoad holds the real store's LoadRevocations until released, to make
// a Note arrive while a load is running.
type slowLoad struct {
	*memory.Store
	started, release chan struct{}
}

func (f *slowLoad) LoadRevocations(ctx context.Context, now time.Time, fn func(store.RevocationEvent)) (string, string, error) {
	select {
	case f.started <- struct{}{}:
	default:
	}
	<-f.release
	return f.Store.LoadRevocations(ctx, now, fn)
}

// A revocation this replica notes while a load runs holds after the load,
// even though the loaded state was read before the revocation reached it.
func TestMirrorKeepsNotesAcrossALoad(t *testing.T) {
	st := memory.New()
	if err := st.PutUser(t.Context(), store.User{Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InitEpoch(t.Context(), "e1"); err != nil {
		t.Fatal(err)
	}
	feed := &slowLoad{Store: st, started: make(chan struct{}, 1), release: make(chan struct{})}
	m := mirror.New(mirror.Options{Feed: feed})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-feed.started
	// Noted, but not (yet) in the store the load reads.
	m.Note(store.RevocationEvent{JTI: "j1", Until: time.Now().Add(time.Hour)})
	close(feed.release)
	authtest.Eventually(t, "first load", m.Fresh)
	tok := &accesstoken.Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "alice", ID: "j1", IssuedAt: jwt.NewNumericDate(time.Now())}, Epoch: "e1"}
	if err := m.Check(tok); !revoked(err) {
		t.Fatalf("a token noted as revoked during the load: %v", err)
	}
}

// Every change applied from the log reports how long after its writing it
// was applied, by the mirror's clock; the state loaded at the start does
// not.
func TestMirrorReportsPropagation(t *testing.T) {
	st := memory.New()
	if err := st.PutUser(t.Context(), store.User{Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	// The mirror's clock an hour ahead of the store's: every change is
	// applied an hour, less the test's own run time, after its writing.
	clock := clocktesting.NewFakePassiveClock(written.Add(time.Hour))
	var mu sync.Mutex
	var seen []time.Duration
	m := start(t, st, mirror.Options{Clock: clock, Propagation: func(d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, d)
	}})
	mark := m.Mark()
	if err := st.RevokeAccessToken(t.Context(), "j1", written.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	authtest.Eventually(t, "the revocation to be applied", func() bool { return m.CaughtUp(mark) && revoked(m.Check(claims(m, "alice", "j1", "", written))) })
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] > time.Hour || seen[0] < 59*time.Minute {
		t.Fatalf("propagation reported %v, want one of about an hour", seen)
	}
}
