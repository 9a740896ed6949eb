package redis

import (
	"errors"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/authserver/store"
	"github.com/authstack/authstack/authserver/store/redistest"
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
