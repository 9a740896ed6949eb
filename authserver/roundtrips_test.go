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
	"net/http"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/authserver/throttle"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/redistest"
)

// Sequential Redis round trips per /token on the typical path (issue 15,
// part 2; docs/redis.md lists them): a password login of a public client
// at most 3, a refresh at most 2 (the client's registration is read with
// the session). A go-redis hook counts every command
// sent alone and every pipeline as one round trip each, for the request's
// context only (the revocation mirror reads the same Redis meanwhile).
func TestRoundTripsPerToken(t *testing.T) {
	rs := redistest.Start(t)
	client := rs.Client()
	t.Cleanup(func() { client.Close() })
	rt := &roundTripCounter{}
	client.AddHook(rt)
	ts := newTestServer(t, withStore(redisstore.NewFromClient(client, "rt")), withConfig(func(c *testConfig) {
		// The binary's defaults: every counter a login can touch is on.
		c.UserRate, c.ClientRate = throttle.DefaultUserRate, throttle.DefaultClientRate
	}))

	count := func(r request) (int64, *httptestRecorder) {
		t.Helper()
		r.ctx = context.WithValue(t.Context(), countedRequest{}, true)
		before := rt.n.Load()
		rec := ts.do(r)
		return rt.n.Load() - before, rec
	}
	password := request{body: form("grant_type", "password", "username", "alice", "password", alicePassword)}
	// The first requests load the scripts (EVALSHA, then EVAL) and write
	// the epoch: not the typical path.
	for range 2 {
		if rec := ts.do(password); rec.Code != http.StatusOK {
			t.Fatalf("login: %d %s", rec.Code, rec.Body)
		}
	}
	n, rec := count(password)
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	t.Logf("password grant, public client: %d round trips", n)
	if n > 3 {
		t.Errorf("password grant, public client: %d sequential Redis round trips, want at most 3", n)
	}
	tr := decode[tokenResponse](t, rec)
	if tr.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	refresh := func(rt string) request {
		return request{body: form("grant_type", "refresh_token", "refresh_token", rt)}
	}
	// The first refresh loads its scripts.
	if rec := ts.do(refresh(tr.RefreshToken)); rec.Code != http.StatusOK {
		t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
	} else {
		tr = decode[tokenResponse](t, rec)
	}
	n, rec = count(refresh(tr.RefreshToken))
	if rec.Code != http.StatusOK {
		t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
	}
	t.Logf("refresh grant, public client: %d round trips", n)
	if n > 2 {
		t.Errorf("refresh grant, public client: %d sequential Redis round trips, want at most 2", n)
	}
	// A wrong password: the same two round trips around the hash.
	n, rec = count(request{body: form("grant_type", "password", "username", "alice", "password", "guess")})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("wrong password: %d %s", rec.Code, rec.Body)
	}
	t.Logf("password grant, wrong password: %d round trips", n)
	if n > 3 {
		t.Errorf("password grant, wrong password: %d sequential Redis round trips, want at most 3", n)
	}
}

// countedRequest marks the context whose Redis commands are counted.
type countedRequest struct{}

// roundTripCounter counts the commands and pipelines sent for a counted
// request: each is one round trip, made one after another (the server
// sends no two of a request's at once).
type roundTripCounter struct{ n atomic.Int64 }

func (c *roundTripCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *roundTripCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.add(ctx)
		return next(ctx, cmd)
	}
}

func (c *roundTripCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.add(ctx)
		return next(ctx, cmds)
	}
}

func (c *roundTripCounter) add(ctx context.Context) {
	if ctx.Value(countedRequest{}) != nil {
		c.n.Add(1)
	}
}
