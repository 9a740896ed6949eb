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
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/testing/redistest"
)

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

// TestKeyExpiry checks that only users, clients, their name sets, the
// revocation keys and the last logins are kept without expiry; every other
// key expires. Those are bounded otherwise: the sorted set drops entries
// that ran out, the log is capped, and there is one user state and one
// last login per user.
func TestKeyExpiry(t *testing.T) {
	srv := redistest.Start(t)
	client := srv.Client()
	exerciseAll(t, NewFromClient(client, ""))

	keys, err := client.Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatalf("KEYS: %v", err)
	}
	permanent := regexp.MustCompile(`^authstack:\{(users|clients|user:.*|client:.*|ll)\}$|^authstack:\{rev\}:(ids|log|users|epoch)$`)
	for _, k := range keys {
		ttl, err := client.PTTL(t.Context(), k).Result()
		if err != nil {
			t.Fatalf("PTTL %s: %v", k, err)
		}
		if want := !permanent.MatchString(k); (ttl > 0) != want {
			t.Errorf("key %q: PTTL %v, want expiry %v", k, ttl, want)
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
		s.CreateSession(ctx, store.Session{ID: "s{1}", TokenHash: "h{1}", TokenExpiresAt: now.Add(time.Hour)}),
		s.CreateSession(ctx, store.Session{ID: "s2", TokenHash: "h2", TokenExpiresAt: now.Add(time.Hour)}),

		s.RevokeAccessToken(ctx, "j{1}", now.Add(time.Hour)),
		s.RevokeGrant(ctx, "g{1}", now.Add(time.Hour)),
		s.WaitRevocations(ctx, zeroID, time.Millisecond),
	}
	// A reservation left in flight, one failed, one that succeeded and one
	// withdrawn: a reservation set, a failure counter, a pass marker and a
	// withdrawal mark.
	r := store.Reservation{Group: "ip:{1}", Hold: time.Minute, Pass: "u{1}", PassTTL: time.Hour,
		Limits: []store.ThrottleLimit{{Key: "u{1}", Max: 5, Window: time.Minute}, {Key: "ip}", Max: 5, Window: time.Hour, Waivable: true}}}
	for id, outcome := range map[string]store.Outcome{"failed": store.Failed, "succeeded": store.Succeeded, "withdrawn{}": store.Withdrawn, "left": -1} {
		r.ID = id
		_, err := s.Reserve(ctx, r, now)
		steps = append(steps, err)
		if outcome >= 0 {
			steps = append(steps, s.Settle(ctx, r, outcome, now))
		}
	}
	_, err := s.RotateSession(ctx, "s{1}", store.Rotation{TokenHash: "h{1}", NextHash: "n{1}", NextExpiresAt: now.Add(time.Hour)}, now)
	steps = append(steps, err)
	_, err = s.GetSession(ctx, "s{1}")
	steps = append(steps, err)
	_, err = s.RevokeSession(ctx, "s2")
	steps = append(steps, err)
	_, err = s.AddAttempt(ctx, "k{1}", time.Minute, now)
	steps = append(steps, err)
	_, err = s.ListUsers(ctx)
	steps = append(steps, err)
	_, err = s.GetClient(ctx, "web{1}")
	steps = append(steps, err)
	_, err = s.AccessTokenRevoked(ctx, "j{1}", now)
	steps = append(steps, err)
	_, err = s.InitEpoch(ctx, "e{1}")
	steps = append(steps, err)
	_, err = s.ReplaceEpoch(ctx, "e{1}", "e{2}")
	steps = append(steps, err)
	epoch, cursor, err := s.LoadRevocations(ctx, now, func(store.RevocationEvent) {})
	steps = append(steps, err)
	_, _, err = s.ReadRevocations(ctx, epoch, cursor, 10)
	steps = append(steps, err)
	// A last login and a throttle (DeleteUserFrom below deletes nothing:
	// the record has no source).
	steps = append(steps, s.RecordLogin(ctx, "a{b}", now),
		s.RecordThrottles(ctx, map[string]store.Throttle{"a{b}": {Until: now.Add(time.Minute), Limit: "user_ip"}}, now))
	_, err = s.ReadActivity(ctx, time.Time{}, now)
	steps = append(steps, err)
	_, err = s.DeleteUserFrom(ctx, "a{b}", "src")
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
