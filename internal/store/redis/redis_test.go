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
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/conformance"
	"github.com/authstack/authstack/internal/testing/redistest"
)

// TestMain silences go-redis's own logging: TestUnavailable makes it
// report every failed dial.
func TestMain(m *testing.M) {
	goredis.SetLogger(quietLogger{})
	m.Run()
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// TestConformance runs the shared suite with a fresh key prefix per subtest
// on one redis-server.
func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	conformance.RunTests(t, func(t *testing.T) conformance.Store {
		s, err := New(t.Context(), Options{URL: srv.URL(), KeyPrefix: t.Name()})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestNew(t *testing.T) {
	srv := redistest.Start(t)
	stopped := redistest.Start(t)
	stopped.Stop()

	s, err := New(t.Context(), Options{URL: srv.URL()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.PutUser(t.Context(), store.User{Username: "alice"}); err != nil {
		t.Fatalf("PutUser: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n, err := srv.Client().Exists(t.Context(), DefaultKeyPrefix+":{user:alice}").Result(); err != nil || n != 1 {
		t.Fatalf("default prefix: EXISTS = %d, %v; want 1", n, err)
	}

	for _, tc := range []struct {
		name, url   string
		unavailable bool
	}{
		{"no url", "", false},
		{"bad scheme", "http://" + srv.Addr(), false},
		{"bad port", "redis://user:hunter2@127.0.0.1:port/0", false},
		{"unreachable", "redis://user:hunter2@" + stopped.Addr() + "/0", true},
		{"tls to plaintext", "rediss://" + srv.Addr() + "/0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A TLS handshake with a plaintext server hangs until the deadline.
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			_, err := New(ctx, Options{URL: tc.url})
			if err == nil {
				t.Fatal("New succeeded")
			}
			if got := errors.Is(err, store.ErrUnavailable); got != tc.unavailable {
				t.Errorf("errors.Is(%v, ErrUnavailable) = %v, want %v", err, got, tc.unavailable)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

// TestUnavailable stops Redis under a store and checks that every method
// fails fast with store.ErrUnavailable, then that the store recovers once
// Redis is back.
func TestUnavailable(t *testing.T) {
	srv := redistest.Start(t)
	s, err := New(t.Context(), Options{URL: srv.URL()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	now := time.Now()
	if err := s.CreateSession(t.Context(), store.Session{ID: "s", TokenHash: "h", TokenExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}

	reservation := store.Reservation{Group: "g", ID: "r", Hold: time.Second, Limits: []store.ThrottleLimit{{Key: "k", Max: 1, Window: time.Minute}}}
	srv.Stop()
	calls := map[string]func(ctx context.Context) error{
		"GetUser":      func(ctx context.Context) error { _, err := s.GetUser(ctx, "a"); return err },
		"PutUser":      func(ctx context.Context) error { return s.PutUser(ctx, store.User{Username: "a"}) },
		"DeleteUser":   func(ctx context.Context) error { return s.DeleteUser(ctx, "a") },
		"ListUsers":    func(ctx context.Context) error { _, err := s.ListUsers(ctx); return err },
		"GetClient":    func(ctx context.Context) error { _, err := s.GetClient(ctx, "c"); return err },
		"PutClient":    func(ctx context.Context) error { return s.PutClient(ctx, store.Client{ID: "c"}) },
		"DeleteClient": func(ctx context.Context) error { return s.DeleteClient(ctx, "c") },
		"ListClients":  func(ctx context.Context) error { _, err := s.ListClients(ctx); return err },
		"CreateSession": func(ctx context.Context) error {
			return s.CreateSession(ctx, store.Session{ID: "s2", TokenHash: "h", TokenExpiresAt: now.Add(time.Hour)})
		},
		"GetSession": func(ctx context.Context) error { _, err := s.GetSession(ctx, "s"); return err },
		"RotateSession": func(ctx context.Context) error {
			_, err := s.RotateSession(ctx, "s", store.Rotation{TokenHash: "h", NextHash: "n", NextExpiresAt: now.Add(time.Hour)}, now)
			return err
		},
		"RevokeSession":      func(ctx context.Context) error { _, err := s.RevokeSession(ctx, "s"); return err },
		"RevokeAccessToken":  func(ctx context.Context) error { return s.RevokeAccessToken(ctx, "j", now.Add(time.Hour)) },
		"AccessTokenRevoked": func(ctx context.Context) error { _, err := s.AccessTokenRevoked(ctx, "j", now); return err },
		"AddAttempt":         func(ctx context.Context) error { _, err := s.AddAttempt(ctx, "k", time.Minute, now); return err },
		"CountAttempts":      func(ctx context.Context) error { _, err := s.CountAttempts(ctx, "k", time.Minute, now); return err },
		"Reserve":            func(ctx context.Context) error { _, err := s.Reserve(ctx, reservation, now); return err },
		"Settle":             func(ctx context.Context) error { return s.Settle(ctx, reservation, store.Failed, now) },
		"Ping":               func(ctx context.Context) error { return s.Ping(ctx) },
	}
	const deadline = 2 * time.Second
	t.Run("down", func(t *testing.T) {
		for name, call := range calls {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(t.Context(), deadline)
				defer cancel()
				start := time.Now()
				err := call(ctx)
				if !errors.Is(err, store.ErrUnavailable) {
					t.Fatalf("got %v, want an error wrapping ErrUnavailable", err)
				}
				// Loose: a loaded 2-core runner was seen overrunning by 2s.
				if d := time.Since(start); d > deadline+5*time.Second {
					t.Errorf("took %v, deadline %v", d, deadline)
				}
			})
		}
	})

	// go-redis probes a failed server once a second before dialling again.
	srv.Restart()
	deadlineAfterRestart := time.Now().Add(10 * time.Second)
	for {
		err := s.Ping(t.Context())
		if err == nil {
			break
		}
		if time.Now().After(deadlineAfterRestart) {
			t.Fatalf("Ping after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestFailFastDefaultsAndURLOverrides(t *testing.T) {
	o, _ := goredis.ParseURL("redis://127.0.0.1:6379/0")
	failFast(o, "redis://127.0.0.1:6379/0")
	if o.DialTimeout != time.Second || o.ReadTimeout != 500*time.Millisecond || o.MaxRetries != 1 {
		t.Fatalf("defaults not applied: %+v", o)
	}
	u := "redis://127.0.0.1:6379/0?read_timeout=3s&max_retries=5"
	o, _ = goredis.ParseURL(u)
	failFast(o, u)
	if o.ReadTimeout != 3*time.Second || o.MaxRetries != 5 || o.DialTimeout != time.Second {
		t.Fatalf("URL options overridden: %+v", o)
	}
}

// New builds its client with the fail-fast options, not go-redis's defaults
// (which hold a request for seconds against a dead server).
func TestNewAppliesFailFastOptions(t *testing.T) {
	srv := redistest.Start(t)
	s, err := New(t.Context(), Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o := s.client.(*goredis.Client).Options()
	if o.ReadTimeout != defaultReadTimeout || o.DialTimeout != defaultDialTimeout || o.MaxRetries != defaultMaxRetries ||
		o.MaxRetryBackoff != defaultMaxRetryBackoff || o.DialerRetries != defaultDialerRetries {
		t.Fatalf("client options %+v are not the fail-fast ones", o)
	}
}
