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

package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
)

const apiAudience = "https://api.example.test"

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"--issuer", "https://auth.example.test", "--audience", "a, b,,", "--addr", ":9000"}, io.Discard)
	if err != nil || c.issuer != "https://auth.example.test" || !slices.Equal(c.audiences, []string{"a", "b"}) || c.addr != ":9000" {
		t.Errorf("parseFlags = %+v, %v", c, err)
	}
	for _, args := range [][]string{
		{},
		{"--issuer", "https://auth.example.test"},
		{"--audience", "a"},
		{"--issuer", "https://auth.example.test", "--audience", " , "},
		{"--issuer", "https://auth.example.test", "--audience", "a", "extra"},
		{"--nope"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

// TestService runs the service against a real token server and calls it
// over HTTP as a client would.
func TestService(t *testing.T) {
	issuer, token := startTokenServer(t, memory.New())
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, config{issuer: issuer, audiences: []string{apiAudience}, allowHTTP: true}, ln, slog.New(slog.DiscardHandler))
	}()
	base := "http://" + ln.Addr().String()

	waitReady(t, base)

	alice, bob := token("alice", "alice-password-1"), token("bob", "bob-password-22")
	resp := get(t, base+"/api/whoami", "")
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="authstack"` {
		t.Errorf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	resp = get(t, base+"/api/whoami", alice)
	var id identity
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&id) != nil {
		t.Fatalf("whoami: %d", resp.StatusCode)
	}
	if id.Subject != "alice" || id.ClientID != "default" || !slices.Equal(id.Scopes, []string{"read", "admin"}) ||
		!slices.Equal(id.Groups, []string{"admins"}) || id.ExpiresAt.Before(time.Now()) {
		t.Errorf("whoami %+v", id)
	}
	if resp := get(t, base+"/api/admin", alice); resp.StatusCode != http.StatusOK {
		t.Errorf("admin as alice: %d", resp.StatusCode)
	}
	resp = get(t, base+"/api/admin", bob)
	if wa := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != http.StatusForbidden ||
		!strings.Contains(wa, `error="insufficient_scope"`) || !strings.Contains(wa, `scope="admin"`) {
		t.Errorf("admin as bob: %d %q", resp.StatusCode, wa)
	}
	if resp := get(t, base+"/api/whoami", bob+"x"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad signature: %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// startTokenServer starts an authstack token server over plain HTTP with
// users alice (scopes read, admin) and bob (read), whose tokens are for
// apiAudience; it returns the issuer and a function getting tokens.
func startTokenServer(t *testing.T, st store.Store) (string, func(user, pw string) string) {
	t.Helper()
	var handler atomic.Pointer[http.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	for _, u := range []struct {
		name, pw string
		scopes   []string
		groups   []string
	}{
		{"alice", "alice-password-1", []string{"read", "admin"}, []string{"admins"}},
		{"bob", "bob-password-22", []string{"read"}, nil},
	} {
		if err := st.PutUser(context.Background(), store.User{Username: u.name, PasswordHash: authtest.Hash(t, u.pw), Scopes: u.scopes, Groups: u.groups}); err != nil {
			t.Fatal(err)
		}
	}
	as, err := authserver.New(authserver.Config{
		Issuer: srv.URL, AllowHTTPIssuer: true, Store: st, Keys: signer.Static(authtest.KeySet(t, signer.AlgEdDSA)),
		PublicClientID: "default", DefaultAudience: []string{apiAudience}, HashParams: authtest.FastParams,
	})
	if err != nil {
		t.Fatal(err)
	}
	bg, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	as.Start(bg) // the revocation mirror, as in a served token server
	h := as.Handler()
	handler.Store(&h)

	return srv.URL, func(user, pw string) string {
		t.Helper()
		resp, err := http.PostForm(srv.URL+"/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&tr) != nil {
			t.Fatalf("token for %s: %d", user, resp.StatusCode)
		}
		return tr.AccessToken
	}
}

func get(t *testing.T, u, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// With --redis-url the service mirrors the token servers' revocations: a
// token revoked at the token server is refused here, long before exp.
func TestServiceWithRevocationMirror(t *testing.T) {
	rs := redistest.Start(t)
	st, err := redisstore.New(t.Context(), redisstore.Options{URL: rs.URL(), KeyPrefix: "ex"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	issuer, token := startTokenServer(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = serve(ctx, config{issuer: issuer, audiences: []string{apiAudience}, allowHTTP: true, redisURL: rs.URL(), redisKeys: "ex"},
			ln, slog.New(slog.DiscardHandler))
	}()
	base := "http://" + ln.Addr().String()
	waitReady(t, base)
	alice := token("alice", "alice-password-1")
	if resp := get(t, base+"/api/whoami", alice); resp.StatusCode != http.StatusOK {
		t.Fatalf("whoami before revocation: %d", resp.StatusCode)
	}
	resp, err := http.PostForm(issuer+"/revoke", url.Values{"token": {alice}, "client_id": {"default"}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := get(t, base+"/api/whoami", alice)
		if resp.StatusCode == http.StatusUnauthorized && strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
			break
		}
		if resp.StatusCode != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("whoami after revocation: %d", resp.StatusCode)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Disabling the user reaches the service the same way.
	bob := token("bob", "bob-password-22")
	u, _ := st.GetUser(t.Context(), "bob")
	u.Disabled = true
	if err := st.PutUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for get(t, base+"/api/whoami", bob).StatusCode != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("a disabled user's token is still accepted")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitReady waits until the service at base answers /readyz with 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for get(t, base+"/readyz", "").StatusCode != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("never ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
