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
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/store"
)

const (
	// ScopeUserRate is the rate limit of one username's logins.
	ScopeUserRate Scope = "user_rate"
	// ScopeClientRate is the rate limit of one client's token requests.
	ScopeClientRate Scope = "client_rate"
)

// Default rate limits: far above what a person or a CI job does (ten
// logins a second of one user, a hundred token requests a second of one
// client, sustained for a minute), low enough that one credential cannot
// spend a replica's hashing for long.
var (
	DefaultUserRate   = Limit{Max: 600, Window: time.Minute}
	DefaultClientRate = Limit{Max: 6000, Window: time.Minute}
)

// RateLimit bounds requests per subject in fixed windows, successes
// included, on a counter shared through the store. Unlike the failure
// limits it is not tied to an address: callers count only what a subject's
// own credentials did, so that nobody else can use its budget up.
type RateLimit struct {
	Counters store.Counters
	Limit    Limit
	Scope    Scope
	// Clock is the windows' clock; nil is the real clock.
	Clock clock.PassiveClock
}

// key is the counter of subject; hashed, so keys have a fixed size.
func (r *RateLimit) key(subject string) string {
	sum := sha256.Sum256([]byte(subject))
	return "rate:" + string(r.Scope) + ":" + hex.EncodeToString(sum[:16])
}

func (r *RateLimit) now() time.Time { return clocks.Or(r.Clock).Now() }

// Counter is the store counter of subject's requests; zero (none) for a
// nil or disabled RateLimit.
func (r *RateLimit) Counter(subject string) store.Counter {
	if r == nil || r.Limit.Max <= 0 {
		return store.Counter{}
	}
	return store.Counter{Key: r.key(subject), Window: r.Limit.Window}
}

// Judge refuses, with an *ExceededError, a subject whose Counter reads n:
// its window is used up. A nil or disabled RateLimit admits everything.
func (r *RateLimit) Judge(n int64) error {
	if r == nil || r.Limit.Max <= 0 || n < r.Limit.Max {
		return nil
	}
	return &ExceededError{Scope: r.Scope, RetryAfter: untilWindowEnd(r.now(), r.Limit.Window)}
}

// Take counts one request of subject and refuses it, with an
// *ExceededError, when that goes over the limit.
func (r *RateLimit) Take(ctx context.Context, subject string) error {
	n, err := r.add(ctx, subject)
	if err != nil || r == nil || r.Limit.Max <= 0 || n <= r.Limit.Max {
		return err
	}
	return &ExceededError{Scope: r.Scope, RetryAfter: untilWindowEnd(r.now(), r.Limit.Window)}
}

func (r *RateLimit) add(ctx context.Context, subject string) (int64, error) {
	if r == nil || r.Limit.Max <= 0 {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	n, err := r.Counters.AddAttempt(ctx, r.key(subject), r.Limit.Window, r.now())
	if err != nil {
		return 0, fmt.Errorf("count request: %w", err)
	}
	return n, nil
}
