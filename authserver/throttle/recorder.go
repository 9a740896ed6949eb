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

package throttle

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/store"
)

// Defaults of a Recorder: the users a replica keeps between two flushes,
// and how often it flushes.
const (
	DefaultRecorderUsers = 10000
	DefaultRecorderEvery = 5 * time.Second
)

// Records is where a Recorder writes (store.Activity).
type Records interface {
	RecordThrottles(ctx context.Context, throttles map[string]store.Throttle, now time.Time) error
}

// Recorder keeps the users whose logins a limit naming them refused, and
// until when, and writes them to the store every Every in one call, for
// the manager to show in each AuthUser's status. A refusal costs no round
// trip for it: the replica keeps the users in memory meanwhile, at most
// Users of them (a user kept already is updated, any other beyond is
// dropped and counted), and the caller notes only users that exist (the
// login read the record), so an attacker choosing usernames cannot grow
// the set. A nil Recorder records nothing.
type Recorder struct {
	Store Records
	// Users bounds the users kept between flushes; DefaultRecorderUsers
	// when zero.
	Users int
	// Every is the flush period; DefaultRecorderEvery when zero.
	Every time.Duration
	// Clock tells when a refusal ends; nil is the real clock.
	Clock clock.PassiveClock
	// Log receives flush failures; nil discards them.
	Log *slog.Logger

	mu      sync.Mutex
	pending map[string]store.Throttle

	dropped, flushErrors atomic.Int64
}

// Note keeps username's refusal err, when err is a limit's that names a
// user (ScopeUserIP, ScopeUserRate) and not only for attempts in flight
// (those clear within a second): the user is throttled until its
// Retry-After ends. The caller notes only users that exist.
func (r *Recorder) Note(username string, err error) {
	var e *ExceededError
	if r == nil || !errors.As(err, &e) || e.InFlight || (e.Scope != ScopeUserIP && e.Scope != ScopeUserRate) {
		return
	}
	t := store.Throttle{Until: clocks.Or(r.Clock).Now().Add(e.RetryAfter), Limit: string(e.Scope)}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keep(username, t)
}

// keep adds t unless an entry of username ends later, within the bound;
// r.mu held.
func (r *Recorder) keep(username string, t store.Throttle) {
	old, ok := r.pending[username]
	switch {
	case ok && !t.Until.After(old.Until):
		return
	case !ok && len(r.pending) >= r.users():
		r.dropped.Add(1)
		return
	case r.pending == nil:
		r.pending = make(map[string]store.Throttle)
	}
	r.pending[username] = t
}

func (r *Recorder) users() int {
	if r.Users > 0 {
		return r.Users
	}
	return DefaultRecorderUsers
}

// Run flushes every Every until ctx ends, then once more.
func (r *Recorder) Run(ctx context.Context) {
	if r == nil {
		return
	}
	every := r.Every
	if every <= 0 {
		every = DefaultRecorderEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for ctx.Err() == nil {
		select {
		case <-t.C:
			r.flush(ctx)
		case <-ctx.Done():
		}
	}
	final, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	r.flush(final)
}

// flush writes the users kept so far in one call. After a failure, those
// still throttled are kept for the next flush, within the bound.
func (r *Recorder) flush(ctx context.Context) {
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	now := clocks.Or(r.Clock).Now()
	err := r.Store.RecordThrottles(ctx, batch, now)
	if err == nil {
		return
	}
	r.flushErrors.Add(1)
	if r.Log != nil {
		r.Log.Warn("Cannot record throttled users in the store", "users", len(batch), "error", err.Error())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	maps.DeleteFunc(batch, func(_ string, t store.Throttle) bool { return !t.Until.After(now) })
	for name, t := range batch {
		r.keep(name, t)
	}
}

// Dropped is the number of refusals not kept because Users others were.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// FlushErrors is the number of flushes the store refused.
func (r *Recorder) FlushErrors() int64 { return r.flushErrors.Load() }
