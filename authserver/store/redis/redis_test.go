package redis

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/authserver/store"
	"github.com/authstack/authstack/authserver/store/conformance"
	"github.com/authstack/authstack/authserver/store/redistest"
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
	conformance.RunTests(t, func(t *testing.T) store.Store {
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
	tok := store.RefreshToken{Hash: "h", Family: "f", ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateRefreshToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateRefreshToken: %v", err)
	}

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
		"CreateRefreshToken": func(ctx context.Context) error {
			return s.CreateRefreshToken(ctx, store.RefreshToken{Hash: "h2", Family: "f", ExpiresAt: now.Add(time.Hour)})
		},
		"UseRefreshToken":     func(ctx context.Context) error { _, err := s.UseRefreshToken(ctx, "h", now); return err },
		"RevokeRefreshFamily": func(ctx context.Context) error { return s.RevokeRefreshFamily(ctx, "f") },
		"RevokeAccessToken":   func(ctx context.Context) error { return s.RevokeAccessToken(ctx, "j", now.Add(time.Hour)) },
		"AccessTokenRevoked":  func(ctx context.Context) error { _, err := s.AccessTokenRevoked(ctx, "j", now); return err },
		"AddAttempt":          func(ctx context.Context) error { _, err := s.AddAttempt(ctx, "k", time.Minute, now); return err },
		"RemoveAttempt":       func(ctx context.Context) error { return s.RemoveAttempt(ctx, "k", time.Minute, now) },
		"Ping":                func(ctx context.Context) error { return s.Ping(ctx) },
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
				if d := time.Since(start); d > deadline+time.Second {
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

// TestHashTags checks that every key carries a hash tag and that the keys
// of each script call share one, so the store works on Redis Cluster.
func TestHashTags(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	rec := &scriptRecorder{}
	client.AddHook(rec)

	const prefix = "tag{s}" // braces in the prefix are escaped too
	s := NewFromClient(client, prefix)
	exerciseAll(t, s)

	keys, err := client.Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatalf("KEYS: %v", err)
	}
	if len(keys) < 8 {
		t.Fatalf("only %d keys after exercising the store: %q", len(keys), keys)
	}
	wellFormed := regexp.MustCompile(`^tag%7Bs%7D:\{[^{}]+\}`)
	for _, k := range keys {
		if !wellFormed.MatchString(k) {
			t.Errorf("key %q does not start with the escaped prefix and a hash tag", k)
		}
	}

	if len(rec.calls) < 6 {
		t.Fatalf("recorded only %d script calls", len(rec.calls))
	}
	for _, keys := range rec.calls {
		for _, k := range keys[1:] {
			if hashTag(k) != hashTag(keys[0]) {
				t.Errorf("script keys %q do not share a hash tag", keys)
			}
		}
	}
}

// exerciseAll calls every method with inputs that include brace characters.
func exerciseAll(t *testing.T, s *Store) {
	t.Helper()
	ctx, now := t.Context(), time.Now()
	steps := []error{
		s.PutUser(ctx, store.User{Username: "a{b}"}),
		s.PutUser(ctx, store.User{Username: "}c{"}),
		s.DeleteUser(ctx, "}c{"),
		s.PutClient(ctx, store.Client{ID: "web{1}"}),
		s.CreateRefreshToken(ctx, store.RefreshToken{Hash: "h{1}", Family: "f{1}", ExpiresAt: now.Add(time.Hour)}),
		s.CreateRefreshToken(ctx, store.RefreshToken{Hash: "h2", Family: "f2", ExpiresAt: now.Add(time.Hour)}),
		s.RevokeRefreshFamily(ctx, "f2"),
		s.RevokeRefreshFamily(ctx, "gone"),
		s.RevokeAccessToken(ctx, "j{1}", now.Add(time.Hour)),
		s.RemoveAttempt(ctx, "k{1}", time.Minute, now),
	}
	_, err := s.UseRefreshToken(ctx, "h{1}", now)
	steps = append(steps, err)
	_, err = s.AddAttempt(ctx, "k{1}", time.Minute, now)
	steps = append(steps, err)
	_, err = s.ListUsers(ctx)
	steps = append(steps, err)
	_, err = s.GetClient(ctx, "web{1}")
	steps = append(steps, err)
	_, err = s.AccessTokenRevoked(ctx, "j{1}", now)
	steps = append(steps, err)
	if err := errors.Join(steps...); err != nil {
		t.Fatalf("exercising the store: %v", err)
	}
}

// hashTag returns what Redis Cluster hashes for key: the text between the
// first '{' and the next '}' if non-empty, else the whole key.
func hashTag(key string) string {
	open := strings.IndexByte(key, '{')
	if open < 0 {
		return key
	}
	n := strings.IndexByte(key[open+1:], '}')
	if n <= 0 {
		return key
	}
	return key[open+1 : open+1+n]
}

func TestHashTag(t *testing.T) {
	for key, want := range map[string]string{
		"p:{user:a}":    "user:a",
		"p:{rtf:f}:h":   "rtf:f",
		"p:{}:x":        "p:{}:x",
		"p:no-tag":      "p:no-tag",
		"p:{a}{b}":      "a",
		"p:{a%7Bb%7D}c": "a%7Bb%7D",
	} {
		if got := hashTag(key); got != want {
			t.Errorf("hashTag(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestEscapeIsOneToOne(t *testing.T) {
	k := newKeyspace("")
	seen := map[string]string{}
	for _, name := range []string{"a{b}", "a%7Bb%7D", "a%257Bb", "a%7Bb", "ab", "", "{", "}", "%"} {
		key := k.user(name)
		if other, dup := seen[key]; dup {
			t.Errorf("names %q and %q share key %q", name, other, key)
		}
		seen[key] = name
		if strings.Count(key, "{") != 1 || strings.Count(key, "}") != 1 {
			t.Errorf("key %q for %q has stray braces", key, name)
		}
	}
}

// scriptRecorder is a go-redis hook that records the keys of every EVAL
// and EVALSHA sent, single or pipelined.
type scriptRecorder struct {
	mu    sync.Mutex
	calls [][]string
}

func (r *scriptRecorder) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (r *scriptRecorder) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.record(cmd)
		return next(ctx, cmd)
	}
}

func (r *scriptRecorder) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, cmd := range cmds {
			r.record(cmd)
		}
		return next(ctx, cmds)
	}
}

func (r *scriptRecorder) record(cmd goredis.Cmder) {
	args := cmd.Args()
	if name := strings.ToLower(cmd.Name()); (name != "eval" && name != "evalsha") || len(args) < 3 {
		return
	}
	n, err := strconv.Atoi(fmt.Sprint(args[2]))
	if err != nil || n < 1 || len(args) < 3+n {
		return
	}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprint(args[3+i])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, keys)
}
