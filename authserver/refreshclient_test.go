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
	"net/http"
	"testing"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/conformance"
	"github.com/authstack/authstack/internal/store/memory"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/redistest"
)

// A refresh whose client names itself reads the client's registration
// with the session (one round trip fewer), and judges the client from it
// before anything of the session is judged or changed: a refused client
// gets the answer it got when it was authenticated before the grant, and
// the session is neither rotated nor revoked, so its owner's next refresh
// with the same token works. On the memory store and on Redis, whose
// BeginRefresh reads the client in its pipeline.
func TestRefreshJudgesANamedClientFirst(t *testing.T) {
	for name, newStore := range map[string]func(t *testing.T) store.Store{
		"memory": func(*testing.T) store.Store { return memory.New() },
		"redis": func(t *testing.T) store.Store {
			c := redistest.Start(t).Client()
			t.Cleanup(func() { c.Close() })
			return redisstore.NewFromClient(c, "judge")
		},
	} {
		t.Run(name, func(t *testing.T) { testRefreshJudgesANamedClientFirst(t, newStore(t)) })
	}
}

func testRefreshJudgesANamedClientFirst(t *testing.T, s store.Store) {
	ts := newTestServer(t, withStore(s))
	// The default client's session (a request naming no client).
	login := func(t *testing.T, kv ...string) tokenResponse {
		t.Helper()
		rec := ts.do(request{body: form(append([]string{"grant_type", "password", "username", "alice", "password", alicePassword}, kv...)...)})
		if rec.Code != http.StatusOK {
			t.Fatalf("login: %d %s", rec.Code, rec.Body)
		}
		return decode[tokenResponse](t, rec)
	}
	refresh := func(rt string, kv ...string) *httptestRecorder {
		return ts.do(request{body: form(append([]string{"grant_type", "refresh_token", "refresh_token", rt}, kv...)...)})
	}
	want := func(t *testing.T, what string, rec *httptestRecorder, status int, code string) {
		t.Helper()
		if rec.Code != status || decode[errorResponse](t, rec).Error != code {
			t.Fatalf("%s: %d %s, want %d %s", what, rec.Code, rec.Body, status, code)
		}
	}
	// untouched checks that the session of tr is neither rotated nor
	// revoked: its refresh token still works, for its own client.
	untouched := func(t *testing.T, tr tokenResponse, kv ...string) {
		t.Helper()
		if rec := refresh(tr.RefreshToken, kv...); rec.Code != http.StatusOK {
			t.Fatalf("the owner's refresh after the refusal: %d %s; the refused request changed the session", rec.Code, rec.Body)
		}
	}
	if err := ts.store.PutClient(t.Context(), store.Client{ID: "pub", GrantTypes: []string{"password", "refresh_token"}}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name   string
		kv     []string
		token  func(rt string) string
		status int
		code   string
	}{
		{"an unknown client", []string{"client_id", "nope"}, nil, http.StatusUnauthorized, "invalid_client"},
		{"an unknown client, a malformed token", []string{"client_id", "nope"}, func(string) string { return "short" }, http.StatusUnauthorized, "invalid_client"},
		{"an unknown client, no token", []string{"client_id", "nope"}, func(string) string { return "" }, http.StatusUnauthorized, "invalid_client"},
		{"an unknown client, in Basic", nil, nil, http.StatusUnauthorized, "invalid_client"},
		{"a client not allowed refresh_token", []string{"client_id", "cli"}, nil, http.StatusBadRequest, "unauthorized_client"},
		{"a client not allowed refresh_token, a malformed token", []string{"client_id", "cli"}, func(string) string { return "short" }, http.StatusBadRequest, "unauthorized_client"},
		{"a confidential client naming itself", []string{"client_id", "billing"}, nil, http.StatusUnauthorized, "invalid_client"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr := login(t)
			rt := tr.RefreshToken
			if c.token != nil {
				rt = c.token(rt)
			}
			r := request{body: form(append([]string{"grant_type", "refresh_token", "refresh_token", rt}, c.kv...)...)}
			if c.kv == nil {
				r.headers = map[string]string{"Authorization": basic("nope", "")}
			}
			want(t, "refresh", ts.do(r), c.status, c.code)
			untouched(t, tr)
		})
	}

	t.Run("an admitted client other than the session's", func(t *testing.T) {
		// Judged after the client, as before: a leak, which ends the
		// session.
		tr := login(t)
		want(t, "refresh by pub", refresh(tr.RefreshToken, "client_id", "pub"), http.StatusBadRequest, "invalid_grant")
		want(t, "the owner's refresh after the leak", refresh(tr.RefreshToken), http.StatusBadRequest, "invalid_grant")
	})
	t.Run("the default client replaced by a confidential registration", func(t *testing.T) {
		tr := login(t)
		if err := ts.store.PutClient(t.Context(), store.Client{ID: "default", SecretHash: store.HashClientSecret("s3cret-default"),
			GrantTypes: []string{"password", "refresh_token"}}); err != nil {
			t.Fatal(err)
		}
		want(t, "refresh naming no client", refresh(tr.RefreshToken), http.StatusUnauthorized, "invalid_client")
		if err := ts.store.(conformance.Store).DeleteClient(t.Context(), "default"); err != nil {
			t.Fatal(err)
		}
		untouched(t, tr)
	})
	t.Run("a public client's session", func(t *testing.T) {
		tr := login(t, "client_id", "pub")
		want(t, "refresh by an unknown client", refresh(tr.RefreshToken, "client_id", "nope"), http.StatusUnauthorized, "invalid_client")
		untouched(t, tr, "client_id", "pub")
	})
}

// Without a default client, a refresh naming no client is refused as
// before, and its session is left alone.
func TestRefreshWithoutADefaultClient(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.PublicClientID = "" }))
	if err := ts.store.PutClient(t.Context(), store.Client{ID: "pub", GrantTypes: []string{"password", "refresh_token"}}); err != nil {
		t.Fatal(err)
	}
	rec := ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword, "client_id", "pub")})
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	tr := decode[tokenResponse](t, rec)
	rec = ts.do(request{body: form("grant_type", "refresh_token", "refresh_token", tr.RefreshToken)})
	if rec.Code != http.StatusUnauthorized || decode[errorResponse](t, rec).Error != "invalid_client" {
		t.Fatalf("refresh naming no client: %d %s", rec.Code, rec.Body)
	}
	rec = ts.do(request{body: form("grant_type", "refresh_token", "refresh_token", tr.RefreshToken, "client_id", "pub")})
	if rec.Code != http.StatusOK {
		t.Fatalf("the owner's refresh after the refusal: %d %s", rec.Code, rec.Body)
	}
}
