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

package mirror

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// ErrStale is returned by Check and Epoch when the mirror has not heard
// from the store within the staleness bound (or has not loaded yet). It
// does not wrap accesstoken.ErrInvalidToken: the token may be good, the
// server cannot tell, and answers 503.
var ErrStale = errors.New("revocation state is stale")

// Feed is what the mirror needs of the store.
type Feed interface {
	store.RevocationFeed
	store.Epochs
}

// Defaults of Options' zero fields.
const (
	DefaultMaxStaleness = 2 * time.Second
	// DefaultWait is how long one blocking wait for changes lasts. The
	// mirror is confirmed fresh after every wait, so it must stay well
	// under the staleness bound.
	DefaultWait = 500 * time.Millisecond
	// DefaultRetry is the pause after a failed read, and the most a mirror
	// lags behind a store that has come back.
	DefaultRetry = 100 * time.Millisecond
	// batch is the most changes read at once.
	batch = 1000
	// pruneEvery is how often revocations that ran out are forgotten.
	pruneEvery = time.Minute
)

// Options configures a Mirror.
type Options struct {
	Feed Feed
	// MaxStaleness is the oldest knowledge Check accepts; DefaultMaxStaleness
	// when zero.
	MaxStaleness time.Duration
	// Wait bounds one blocking wait; DefaultWait when zero, and at most a
	// quarter of MaxStaleness.
	Wait time.Duration
	// Retry is the pause after a failure; DefaultRetry when zero.
	Retry time.Duration
	// Leeway keeps revocations this long after they ran out, matching the
	// validators' clock-skew leeway on exp.
	Leeway time.Duration
	// Clock is the clock revocations run out by (tests set it); nil is the
	// real clock. Staleness is measured on the process's monotonic clock,
	// whatever Clock says.
	Clock clock.PassiveClock
	Log   *slog.Logger
	// Propagation, if set, is told for every change the mirror applies
	// from the change log how long after it was written (by the store's
	// clock, against Clock) it was applied here; never less than zero.
	Propagation func(time.Duration)
}

// Mirror is a local copy of the revocation state. Check is safe for
// concurrent use with Run.
type Mirror struct {
	opts Options

	mu sync.RWMutex
	st *state // nil until the first load

	// syncedAt is when the last successful read started, in nanoseconds
	// of the monotonic clock since base (0: never): the mirror knows every
	// change made before it.
	base     time.Time
	syncedAt atomic.Int64
	cursor   string
	// synced is closed, and replaced, after every successful read.
	synced atomic.Pointer[chan struct{}]

	reloads      atomic.Int64
	rollbacks    atomic.Int64
	syncErrors   atomic.Int64
	epochChanges atomic.Int64

	// loading is set while a load runs; notes made meanwhile are kept in
	// noted and applied to the loaded state, which may have been read
	// before they were written. Both are guarded by mu.
	loading bool
	noted   []store.RevocationEvent
}

// New returns a mirror; Run fills and follows it.
func New(opts Options) *Mirror {
	if opts.MaxStaleness <= 0 {
		opts.MaxStaleness = DefaultMaxStaleness
	}
	if opts.Wait <= 0 {
		opts.Wait = DefaultWait
	}
	opts.Wait = min(opts.Wait, opts.MaxStaleness/4)
	if opts.Retry <= 0 {
		opts.Retry = DefaultRetry
	}
	opts.Leeway = max(opts.Leeway, 0) // a negative leeway would forget revocations early
	opts.Clock = clocks.Or(opts.Clock)
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	m := &Mirror{opts: opts, base: time.Now()}
	ch := make(chan struct{})
	m.synced.Store(&ch)
	return m
}

// markSynced records a successful read that started at start and wakes
// those waiting for one.
func (m *Mirror) markSynced(start int64) {
	m.syncedAt.Store(start)
	next := make(chan struct{})
	close(*m.synced.Swap(&next))
}

// waitCaughtUp waits until the mirror has read the store after mark, for
// at most timeout; it reports whether it has.
func (m *Mirror) waitCaughtUp(ctx context.Context, mark int64, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		ch := *m.synced.Load()
		if m.CaughtUp(mark) {
			return true
		}
		select {
		case <-ch:
		case <-t.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// clock reads the monotonic clock, never 0.
func (m *Mirror) clock() int64 { return int64(time.Since(m.base)) + 1 }

// Run loads the state and follows the change log until ctx ends.
func (m *Mirror) Run(ctx context.Context) error {
	loaded := false
	lastPrune := m.opts.Clock.Now()
	failing := false
	fail := func(what string, err error) {
		m.syncErrors.Add(1)
		if !failing && ctx.Err() == nil {
			m.opts.Log.Warn("Revocation mirror cannot reach the store", "step", what, "error", err.Error())
		}
		failing = true
		sleep(ctx, m.opts.Retry)
	}
	for ctx.Err() == nil {
		if !loaded {
			if err := m.load(ctx); err != nil {
				fail("load", err)
				continue
			}
			loaded = true
		}
		start := m.clock()
		m.mu.RLock()
		epoch := m.st.epoch
		m.mu.RUnlock()
		events, next, err := m.opts.Feed.ReadRevocations(ctx, epoch, m.cursor, batch)
		switch {
		case errors.Is(err, store.ErrFeedReset):
			m.opts.Log.Info("Revocation state reset in the store: loading it again", "reason", err.Error())
			loaded = false
			continue
		case errors.Is(err, store.ErrRolledBack):
			m.rollbacks.Add(1)
			m.opts.Log.Warn("The store went back in time and may have lost revocations: starting a new epoch; "+
				"every token issued before is refused", "reason", err.Error())
			if _, err := m.opts.Feed.ReplaceEpoch(ctx, epoch, rand.Text()); err != nil {
				fail("replace epoch", err)
				continue
			}
			loaded = false
			continue
		case err != nil:
			fail("read", err)
			continue
		}
		m.mu.Lock()
		for _, e := range events {
			m.st.apply(e)
		}
		m.mu.Unlock()
		m.observe(events)
		if now := m.opts.Clock.Now(); now.Sub(lastPrune) > pruneEvery {
			m.prune(now.Add(-m.opts.Leeway))
			lastPrune = now
		}
		m.cursor = next
		m.markSynced(start)
		if failing {
			m.opts.Log.Info("Revocation mirror is following the store again")
			failing = false
		}
		if len(events) == batch {
			continue
		}
		if err := m.opts.Feed.WaitRevocations(ctx, m.cursor, m.opts.Wait); err != nil {
			fail("wait", err)
		}
	}
	return nil
}

// observe tells Options.Propagation how long after their writing events
// were applied.
func (m *Mirror) observe(events []store.RevocationEvent) {
	if m.opts.Propagation == nil || len(events) == 0 {
		return
	}
	now := m.opts.Clock.Now()
	for _, e := range events {
		if !e.Written.IsZero() {
			m.opts.Propagation(max(now.Sub(e.Written), 0))
		}
	}
}

// prune forgets revocations that ran out before t. The walk over the sets
// runs under the read lock, so validations go on meanwhile; only the
// deletion of what it found takes the write lock.
func (m *Mirror) prune(t time.Time) {
	m.mu.RLock()
	st := m.st
	gone := st.expired(t.UnixMilli())
	m.mu.RUnlock()
	if gone.empty() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st == st { // not replaced by a load meanwhile
		st.forget(gone, t.UnixMilli())
	}
}

// load reads the whole state, writing an epoch marker into a store that
// has none, and replaces the mirror's state with it.
func (m *Mirror) load(ctx context.Context) error {
	m.mu.Lock()
	m.loading, m.noted = true, nil
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.loading, m.noted = false, nil
		m.mu.Unlock()
	}()
	for {
		start := m.clock()
		var st *state
		epoch, cursor, err := m.opts.Feed.LoadRevocations(ctx, m.opts.Clock.Now(), func(e store.RevocationEvent) {
			if st == nil {
				st = newState("")
			}
			st.apply(e)
		})
		if err != nil {
			return err
		}
		if epoch == "" {
			// An empty store: whoever comes first writes the marker.
			if _, err := m.opts.Feed.InitEpoch(ctx, rand.Text()); err != nil {
				return err
			}
			continue
		}
		if st == nil {
			st = newState("")
		}
		st.epoch = epoch
		m.mu.Lock()
		old := m.st
		if old == nil || old.epoch == epoch {
			for _, e := range m.noted {
				st.apply(e)
			}
		}
		m.st = st
		m.mu.Unlock()
		m.cursor = cursor
		m.markSynced(start)
		m.reloads.Add(1)
		if old != nil && old.epoch != epoch {
			m.epochChanges.Add(1)
			m.opts.Log.Warn("New store epoch: tokens issued before it are refused", "revoked", st.jtis.len())
		}
		return nil
	}
}

// Staleness is how old the mirror's knowledge is; a large value before the
// first load.
func (m *Mirror) Staleness() time.Duration {
	at := m.syncedAt.Load()
	if at == 0 {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(m.clock() - at)
}

// Mark returns a point in time for CaughtUp.
func (m *Mirror) Mark() int64 { return m.clock() }

// CaughtUp reports whether the mirror has read the store since mark: it
// then holds every change written before Mark was called.
func (m *Mirror) CaughtUp(mark int64) bool { return m.syncedAt.Load() >= mark }

// MaxStaleness is the staleness bound: above it, Check and Epoch fail
// closed.
func (m *Mirror) MaxStaleness() time.Duration { return m.opts.MaxStaleness }

// Fresh reports whether the mirror is within its staleness bound.
func (m *Mirror) Fresh() bool { return m.Staleness() <= m.opts.MaxStaleness }

func (m *Mirror) stale() error {
	if d := m.Staleness(); d > m.opts.MaxStaleness {
		if m.syncedAt.Load() == 0 {
			return fmt.Errorf("%w: not loaded yet", ErrStale)
		}
		return fmt.Errorf("%w: last synchronised %v ago", ErrStale, d.Round(time.Millisecond))
	}
	return nil
}

// Epoch returns the store epoch new tokens are issued in.
func (m *Mirror) Epoch() (string, error) {
	if err := m.stale(); err != nil {
		return "", err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.st.epoch, nil
}

// Check reports whether the token's claims are still good as far as
// revocation goes: nil if so, an error wrapping accesstoken.ErrInvalidToken
// if the token was revoked (its jti or sid, its user disabled, deleted or
// revoked since, or an earlier epoch), ErrStale if the mirror cannot tell.
// Signature, issuer, audience and expiry are the validator's business.
func (m *Mirror) Check(c *accesstoken.Claims) error {
	if err := m.stale(); err != nil {
		return err
	}
	// A revocation holds until its Until plus the leeway: the validator
	// accepts a token that long after its exp, and the revocation must
	// outlast every moment the token is accepted.
	nowMs := m.opts.Clock.Now().Add(-m.opts.Leeway).UnixMilli()
	m.mu.RLock()
	defer m.mu.RUnlock()
	st := m.st
	switch {
	case c.Epoch != st.epoch:
		return accesstoken.Invalid("token from an earlier store epoch")
	case st.jtis.revoked(c.ID, nowMs):
		return accesstoken.Invalid("token revoked")
	case c.SessionID != "" && st.grants.revoked(c.SessionID, nowMs):
		return accesstoken.Invalid("token revoked")
	}
	// A user without a state is gone; a state that ends the token's
	// session (disabled, a password change or revocation since the
	// credential was checked) refuses it.
	if u, ok := st.users[c.Subject]; !ok || u.Ends(c.Session()) {
		return accesstoken.Invalid("token revoked")
	}
	return nil
}

// stateWait bounds how long State waits for a user the mirror does not
// know yet. A user's state is written, with its log entry, before its
// record, so a user whose record was just read is known after one more
// read of the log, a millisecond or so later.
const stateWait = time.Second

// State returns the user's state as the mirror knows it, and false when it
// knows no such user. For a user it does not know, it first waits (at most
// a second, or until ctx ends) for the mirror to read the store once more.
func (m *Mirror) State(ctx context.Context, username string) (store.UserState, bool) {
	mark := m.Mark()
	if u, ok := m.state(username); ok {
		return u, true
	}
	if !m.waitCaughtUp(ctx, mark, stateWait) {
		return store.UserState{}, false
	}
	return m.state(username)
}

func (m *Mirror) state(username string) (store.UserState, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.st == nil {
		return store.UserState{}, false
	}
	u, ok := m.st.users[username]
	return u, ok
}

// Note applies a change this replica has just written to the store, so
// that it holds here at once, before the change log brings it back.
func (m *Mirror) Note(e store.RevocationEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.st != nil {
		m.st.apply(e)
	}
	if m.loading {
		m.noted = append(m.noted, e)
	}
}

// Stats are figures for metrics.
type Stats struct {
	RevokedTokens, RevokedGrants, Users int
	Reloads, Rollbacks                  int64
	// SyncErrors counts the failed reads of the store (loads, reads,
	// waits and epoch replacements); EpochChanges the loads that found a
	// new epoch (the store lost its data, or was found rolled back).
	SyncErrors, EpochChanges int64
}

// Stats returns the mirror's current figures.
func (m *Mirror) Stats() Stats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := Stats{Reloads: m.reloads.Load(), Rollbacks: m.rollbacks.Load(),
		SyncErrors: m.syncErrors.Load(), EpochChanges: m.epochChanges.Load()}
	if m.st != nil {
		s.RevokedTokens, s.RevokedGrants, s.Users = m.st.jtis.len(), m.st.grants.len(), len(m.st.users)
	}
	return s
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
