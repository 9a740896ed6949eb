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

// Package replicas runs three `authstack server` processes on one real
// redis-server and checks that they behave as one authorization server:
// a revocation or a disabled user on one is seen by all, a Redis outage
// fails closed everywhere and heals, lost data never revives a revoked
// token, and the throttle holds across replicas.
package replicas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/store"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/redistest"
	"github.com/authstack/authstack/internal/testing/serverproc"
)

const (
	issuer    = "http://auth.replicas.test"
	alicePW   = "alice-replica-password"
	svcSecret = "svc-secret-with-more-than-32-characters"
	// staleness is the servers' --revocation-max-staleness.
	staleness = 500 * time.Millisecond
)

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	goredis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

type cluster struct {
	t       *testing.T
	redis   *redistest.Server
	store   store.Store
	servers []*serverproc.Server
	client  *http.Client
}

// newCluster starts redis-server, writes alice and the svc client as the
// controller would, and starts three servers.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	bin, work := serverproc.BuildForTest(t)
	keys := filepath.Join(work, "keys")
	if err := serverproc.WriteKey(keys); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, redis: redistest.Start(t), client: &http.Client{Timeout: 10 * time.Second}}
	st, err := redisstore.New(t.Context(), redisstore.Options{URL: c.redis.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c.store = st
	c.putRecords()
	for _, name := range []string{"a", "b", "c"} {
		s, err := serverproc.Start(bin, work, name, c.redis.URL(), issuer, keys, nil,
			"--revocation-max-staleness", staleness.String(), "--throttle-user-ip-max", "5", "--throttle-ip-max", "1000",
			"--argon2-memory", "1024", "--argon2-time", "1", "--log-level", "debug")
		if err != nil {
			t.Fatal(err)
		}
		c.servers = append(c.servers, s)
		t.Cleanup(func() {
			s.Stop()
			if t.Failed() {
				data, _ := os.ReadFile(s.Log)
				t.Logf("--- server %s log (tail) ---\n%s", name, tail(string(data), 40))
			}
		})
	}
	return c
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// putRecords writes what the controller writes for alice and svc.
func (c *cluster) putRecords() {
	c.t.Helper()
	hash, err := password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}.Hash([]byte(alicePW))
	if err != nil {
		c.t.Fatal(err)
	}
	ctx := context.Background()
	for _, err := range []error{
		c.store.PutUser(ctx, store.User{Username: "alice", PasswordHash: hash, Scopes: []string{"read"}, Source: "t/alice"}),
		c.store.PutClient(ctx, store.Client{ID: "svc", SecretHash: store.HashClientSecret(svcSecret),
			GrantTypes: []string{"password", "refresh_token"}, Audiences: []string{issuer}}),
	} {
		if err != nil {
			c.t.Fatal(err)
		}
	}
}

type response struct {
	code int
	body string
	hdr  http.Header
}

func (c *cluster) do(method, u string, form url.Values, basic bool, bearer string) (response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return response{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if basic {
		req.SetBasicAuth("svc", svcSecret)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{code: resp.StatusCode, body: string(b), hdr: resp.Header}, nil
}

func (c *cluster) must(r response, err error) response {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
}

func (c *cluster) login(s *serverproc.Server) tokens {
	c.t.Helper()
	r := c.must(c.do(http.MethodPost, s.URL+"/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePW}}, true, ""))
	if r.code != http.StatusOK {
		c.t.Fatalf("login on %s: %d %s", s.URL, r.code, r.body)
	}
	var tk tokens
	if err := json.Unmarshal([]byte(r.body), &tk); err != nil || tk.Access == "" || tk.Refresh == "" {
		c.t.Fatalf("login: %s", r.body)
	}
	return tk
}

func (c *cluster) verify(s *serverproc.Server, tok string) int {
	c.t.Helper()
	return c.must(c.do(http.MethodGet, s.URL+"/verify", nil, false, tok)).code
}

// rejectedEverywhere waits (up to 2 s) until every server answers 401 for
// tok, and fails if any answers something other than 200 or 401 meanwhile.
func (c *cluster) rejectedEverywhere(what, tok string) {
	c.t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for _, s := range c.servers {
		for {
			code := c.verify(s, tok)
			if code == http.StatusUnauthorized {
				break
			}
			if code != http.StatusOK || time.Now().After(deadline) {
				c.t.Fatalf("%s: %s answers %d", what, s.URL, code)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func (c *cluster) revoke(s *serverproc.Server, tok string) {
	c.t.Helper()
	r := c.must(c.do(http.MethodPost, s.URL+"/revoke", url.Values{"token": {tok}}, true, ""))
	if r.code != http.StatusOK {
		c.t.Fatalf("revoke on %s: %d %s", s.URL, r.code, r.body)
	}
}

// run is t.Run with the cluster's helpers failing the subtest.
func (c *cluster) run(t *testing.T, name string, f func(t *testing.T)) {
	t.Run(name, func(st *testing.T) {
		c.t = st
		defer func() { c.t = t }()
		f(st)
	})
}

func TestThreeReplicas(t *testing.T) {
	c := newCluster(t)
	a, b, cc := c.servers[0], c.servers[1], c.servers[2]

	c.run(t, "a token from one replica validates on all", func(t *testing.T) {
		tk := c.login(a)
		for _, s := range c.servers {
			if code := c.verify(s, tk.Access); code != http.StatusOK {
				t.Fatalf("%s: %d", s.URL, code)
			}
		}
	})
	c.run(t, "revoke on A is refused on B and C", func(t *testing.T) {
		tk := c.login(b)
		c.revoke(a, tk.Access)
		c.rejectedEverywhere("revoked access token", tk.Access)
	})
	c.run(t, "revoking a refresh token on B ends the session everywhere", func(t *testing.T) {
		tk := c.login(a)
		c.revoke(b, tk.Refresh)
		c.rejectedEverywhere("access token of a revoked session", tk.Access)
		r := c.must(c.do(http.MethodPost, cc.URL+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.Refresh}}, true, ""))
		if r.code != http.StatusBadRequest {
			t.Fatalf("refresh with a revoked token on C: %d %s", r.code, r.body)
		}
	})
	c.run(t, "refresh rotates across replicas; reuse on another revokes", func(t *testing.T) {
		tk := c.login(a)
		r := c.must(c.do(http.MethodPost, b.URL+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.Refresh}}, true, ""))
		if r.code != http.StatusOK {
			t.Fatalf("refresh on B: %d %s", r.code, r.body)
		}
		var next tokens
		_ = json.Unmarshal([]byte(r.body), &next)
		r = c.must(c.do(http.MethodPost, cc.URL+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.Refresh}}, true, ""))
		if r.code != http.StatusBadRequest {
			t.Fatalf("reuse on C: %d %s", r.code, r.body)
		}
		c.rejectedEverywhere("access token of a reused session", next.Access)
	})
	c.run(t, "a refresh token used as a bearer token is refused", func(t *testing.T) {
		tk := c.login(a)
		for _, s := range c.servers {
			if code := c.verify(s, tk.Refresh); code != http.StatusUnauthorized {
				t.Fatalf("%s: %d", s.URL, code)
			}
		}
	})
	c.run(t, "disabling a user is refused everywhere", func(t *testing.T) {
		tk := c.login(cc)
		u, err := c.store.GetUser(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		u.Disabled = true
		if err := c.store.PutUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		c.rejectedEverywhere("token of a disabled user", tk.Access)
		r := c.must(c.do(http.MethodPost, b.URL+"/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePW}}, true, ""))
		if r.code != http.StatusBadRequest {
			t.Fatalf("disabled user logs in on B: %d", r.code)
		}
		// Enabled again for the subtests that follow. (The controller also
		// moves not-before when it disables, so her old tokens stay dead.)
		u.Disabled = false
		if err := c.store.PutUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	})
	c.run(t, "parallel wrong passwords across replicas stay within the limit", func(t *testing.T) {
		const attempts = 30
		var wg sync.WaitGroup
		codes := make(chan int, attempts)
		for i := range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := c.servers[i%3]
				r, err := c.do(http.MethodPost, s.URL+"/token", url.Values{"grant_type": {"password"}, "username": {"bursty"}, "password": {"wrong"}}, true, "")
				if err != nil {
					t.Error(err)
					return
				}
				codes <- r.code
			}()
		}
		wg.Wait()
		close(codes)
		checked := 0
		for code := range codes {
			switch code {
			case http.StatusBadRequest:
				checked++
			case http.StatusTooManyRequests:
			default:
				t.Errorf("unexpected status %d", code)
			}
		}
		if checked == 0 || checked > 5 {
			t.Fatalf("%d passwords checked across replicas, want 1 to 5 (the limit)", checked)
		}
	})
	c.run(t, "FLUSHALL never revives a revoked token", func(t *testing.T) {
		revoked, live := c.login(a), c.login(b)
		c.revoke(a, revoked.Access)
		c.rejectedEverywhere("revoked token", revoked.Access)
		c.redis.FlushAll()
		// The controller notices and rewrites the records.
		c.putRecords()
		c.rejectedEverywhere("revoked token after FLUSHALL", revoked.Access)
		// Tokens from before the data loss are refused too: the epoch is new.
		c.rejectedEverywhere("token from the lost epoch", live.Access)
		fresh := c.login(cc)
		for _, s := range c.servers {
			deadline := time.Now().Add(2 * time.Second)
			for c.verify(s, fresh.Access) != http.StatusOK {
				if time.Now().After(deadline) {
					t.Fatalf("%s refuses a token of the new epoch", s.URL)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	})
	c.run(t, "SIGSTOP Redis: requests end within their timeouts", func(t *testing.T) {
		tk := c.login(a)
		c.redis.Pause()
		resumed := false
		defer func() {
			if !resumed {
				c.redis.Resume()
			}
		}()
		var wg sync.WaitGroup
		for i, s := range c.servers {
			for _, req := range []struct {
				path string
				form url.Values
			}{
				{"/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePW}}},
				{"/revoke", url.Values{"token": {tk.Access}}},
			} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					start := time.Now()
					r, err := c.do(http.MethodPost, s.URL+req.path, req.form, true, "")
					if err != nil {
						t.Errorf("%s%s: %v", s.URL, req.path, err)
						return
					}
					if took := time.Since(start); took > 5*time.Second {
						t.Errorf("%s%s took %v against a stalled Redis", s.URL, req.path, took)
					}
					if r.code != http.StatusServiceUnavailable || r.hdr.Get("Retry-After") == "" {
						t.Errorf("%s%s (replica %d) against a stalled Redis: %d %s", s.URL, req.path, i, r.code, r.body)
					}
				}()
			}
		}
		wg.Wait()
		time.Sleep(staleness + 200*time.Millisecond)
		for _, s := range c.servers {
			if code := c.verify(s, tk.Access); code != http.StatusServiceUnavailable {
				t.Errorf("%s /verify with a stalled Redis past the staleness bound: %d", s.URL, code)
			}
		}
		c.redis.Resume()
		resumed = true
		for _, s := range c.servers {
			deadline := time.Now().Add(3 * time.Second)
			for c.verify(s, tk.Access) != http.StatusOK {
				if time.Now().After(deadline) {
					t.Fatalf("%s did not recover after SIGCONT", s.URL)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	})
	c.run(t, "Redis killed under load: 503, fail closed, recovery within a second", func(t *testing.T) {
		testKillUnderLoad(t, c)
	})
}

// testKillUnderLoad keeps logins, validations and revocations running on
// every replica while Redis is killed and started again (empty).
func testKillUnderLoad(t *testing.T, c *cluster) {
	tk := c.login(a(c))
	ctx, cancel := context.WithCancel(context.Background())
	var killedAt, staleAt, backAt time.Time
	var mu sync.Mutex
	phase := func() (killed, stale, back bool) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		return !killedAt.IsZero() && now.After(killedAt), !staleAt.IsZero() && now.After(staleAt), !backAt.IsZero()
	}
	var wg sync.WaitGroup
	var errs []error
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) < 20 {
			errs = append(errs, err)
		}
	}
	for _, s := range c.servers {
		for _, kind := range []string{"token", "verify", "revoke"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					sent := time.Now()
					killed, stale, back := phase()
					var r response
					var err error
					switch kind {
					case "token":
						r, err = c.do(http.MethodPost, s.URL+"/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePW}}, true, "")
					case "verify":
						r, err = c.do(http.MethodGet, s.URL+"/verify", nil, false, tk.Access)
					case "revoke":
						r, err = c.do(http.MethodPost, s.URL+"/revoke", url.Values{"token": {"not-a-token-at-all"}}, true, "")
					}
					if err != nil {
						report(fmt.Errorf("%s %s: %w", kind, s.URL, err))
						continue
					}
					if r.code >= 500 && r.code != http.StatusServiceUnavailable {
						report(fmt.Errorf("%s %s: %d %s", kind, s.URL, r.code, r.body))
					}
					// Killed before the request was sent and not back: no token,
					// no revocation accepted; past the bound, no validation.
					if killed && !back && sent.After(killedAt) && r.code == http.StatusOK && kind != "verify" {
						report(fmt.Errorf("%s %s answered 200 with Redis down", kind, s.URL))
					}
					if stale && !back && kind == "verify" && r.code == http.StatusOK {
						report(fmt.Errorf("verify %s accepted a token with the mirror past its bound", s.URL))
					}
					time.Sleep(2 * time.Millisecond)
				}
			}()
		}
	}
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	killedAt = time.Now()
	staleAt = killedAt.Add(staleness + 100*time.Millisecond)
	mu.Unlock()
	c.redis.Stop()
	time.Sleep(2 * time.Second)
	c.redis.Restart()
	c.putRecords() // the controller rewrites the records of the empty Redis
	mu.Lock()
	backAt = time.Now()
	mu.Unlock()
	// Every replica issues and validates again within a second.
	for _, s := range c.servers {
		deadline := backAt.Add(time.Second)
		for {
			r, err := c.do(http.MethodPost, s.URL+"/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {alicePW}}, true, "")
			if err == nil && r.code == http.StatusOK {
				var fresh tokens
				_ = json.Unmarshal([]byte(r.body), &fresh)
				if c.verify(s, fresh.Access) == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s has not recovered a second after Redis returned", s.URL)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("all replicas recovered %v after Redis returned", time.Since(backAt).Round(time.Millisecond))
	cancel()
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	// The token from before the data loss stays refused.
	c.rejectedEverywhere("token from before the restart", tk.Access)
}

func a(c *cluster) *serverproc.Server { return c.servers[0] }
