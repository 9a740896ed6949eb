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

package authserver_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
)

// A username's successful logins are rate limited across addresses,
// answered 429 with Retry-After and counted under limit="user_rate". Wrong
// passwords, from anywhere, do not use the budget up: only the user can.
func TestUserRateLimitCountsTheUsersSuccesses(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.UserRate = throttle.Limit{Max: 3, Window: time.Minute} }))
	for i := range 10 {
		ts.do(passwordLogin("alice", "wrong", "203.0.113."+strconv.Itoa(i+1)+":1"))
	}
	for i := range 3 {
		if rec := ts.do(passwordLogin("alice", alicePassword, "198.51.100."+strconv.Itoa(i+1)+":1")); rec.Code != http.StatusOK {
			t.Fatalf("login %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	rec := ts.do(passwordLogin("alice", alicePassword, "198.51.100.9:1"))
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != untilMinuteEnds(ts) {
		t.Fatalf("fourth login in the window: %d (Retry-After %q) %s, want 429 until the window ends", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if got := ts.metric(t, `authstack_throttle_rejections_total{limit="user_rate"}`); got != 1 {
		t.Errorf("user_rate rejections %v, want 1", got)
	}
	if rec := ts.token("grant_type", "password", "username", "bob", "password", bobPassword); rec.Code != http.StatusOK {
		t.Fatalf("another user: %d", rec.Code)
	}
	ts.clock.Step(time.Minute)
	if rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword); rec.Code != http.StatusOK {
		t.Fatalf("the next window: %d", rec.Code)
	}
}

// A confidential client's token requests are rate limited, successes
// included; public clients, which anyone can name, are not.
func TestClientRateLimit(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.ClientRate = throttle.Limit{Max: 3, Window: time.Minute} }))
	billing := func() int {
		return ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword),
			headers: map[string]string{"Authorization": basic("billing", billingSecret)}}).Code
	}
	for i := range 3 {
		if code := billing(); code != http.StatusOK {
			t.Fatalf("request %d of billing: %d", i+1, code)
		}
	}
	if code := billing(); code != http.StatusTooManyRequests {
		t.Fatalf("fourth request of billing: %d, want 429", code)
	}
	if got := ts.metric(t, `authstack_throttle_rejections_total{limit="client_rate"}`); got != 1 {
		t.Errorf("client_rate rejections %v, want 1", got)
	}
	for i := range 5 {
		if rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword); rec.Code != http.StatusOK {
			t.Fatalf("login %d through the default public client: %d", i+1, rec.Code)
		}
	}
}

// counterFailing is a store whose rate counters fail: reads, or writes.
type counterFailing struct {
	store.Store
	reads bool
}

// The batches call the failing counters.
func (c counterFailing) BeginLogin(ctx context.Context, l store.LoginStart, now time.Time) (store.LoginState, error) {
	return store.BeginLoginOf(ctx, c, l, now)
}

func (c counterFailing) FinishLogin(ctx context.Context, l store.LoginEnd, now time.Time) ([]string, error) {
	return store.FinishLoginOf(ctx, c, l, now)
}

func (c counterFailing) AddAttempt(ctx context.Context, key string, w time.Duration, now time.Time) (int64, error) {
	if !c.reads {
		return 0, fmt.Errorf("add attempt: %w", store.ErrUnavailable)
	}
	return c.Store.AddAttempt(ctx, key, w, now)
}

func (c counterFailing) CountAttempts(ctx context.Context, key string, w time.Duration, now time.Time) (int64, error) {
	if c.reads {
		return 0, fmt.Errorf("count attempts: %w", store.ErrUnavailable)
	}
	return c.Store.CountAttempts(ctx, key, w, now)
}

// A rate counter that cannot be read or written fails closed: 503, never a
// token issued unchecked (nor one whose login went uncounted).
func TestRateLimitsFailClosed(t *testing.T) {
	for _, reads := range []bool{true, false} {
		ts := newTestServer(t, withStore(counterFailing{Store: memory.New(), reads: reads}), withConfig(func(c *testConfig) {
			c.UserRate = throttle.Limit{Max: 100, Window: time.Minute}
			c.ClientRate = throttle.Limit{Max: 100, Window: time.Minute}
		}))
		for name, rec := range map[string]*httptestRecorder{
			"user rate": ts.token("grant_type", "password", "username", "alice", "password", alicePassword),
			"client rate": ts.do(request{body: form("grant_type", "refresh_token", "refresh_token", "x"),
				headers: map[string]string{"Authorization": basic("billing", billingSecret)}}),
		} {
			if reads && name == "client rate" {
				continue // Take only writes
			}
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("%s, reads failing %v: %d %s, want 503 with Retry-After", name, reads, rec.Code, rec.Body)
			}
		}
	}
}
