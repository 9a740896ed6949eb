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
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/conformance"
)

func TestRefreshRotatesAndReuseRevokesTheSession(t *testing.T) {
	ts := newTestServer(t)
	first := ts.login(t)
	rec := ts.refresh(first.RefreshToken)
	if rec.Code != http.StatusOK {
		t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
	}
	second := decode[tokenResponse](t, rec)
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	if second.Scope != "read write" {
		t.Fatalf("scope %q", second.Scope)
	}
	for _, tok := range []string{first.AccessToken, second.AccessToken, second.RefreshToken} {
		if !active(ts.introspect(t, tok)) {
			t.Fatalf("a token of the live session is inactive")
		}
	}
	// The first refresh token again: a stolen copy, or a replay.
	rec = ts.refresh(first.RefreshToken)
	if rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_grant" {
		t.Fatalf("reuse: %d %s", rec.Code, rec.Body)
	}
	// The whole session is gone: the newer refresh token and every access
	// token issued in the session.
	if rec := ts.refresh(second.RefreshToken); rec.Code != http.StatusBadRequest {
		t.Fatalf("refresh token rotated from a reused one: %d", rec.Code)
	}
	for _, tok := range []string{first.AccessToken, second.AccessToken, second.RefreshToken} {
		if got := ts.introspect(t, tok); active(got) || len(got) != 1 {
			t.Fatalf("a token of the revoked session: %v", got)
		}
	}
	// Another session of the same user is untouched.
	if !active(ts.introspect(t, ts.login(t).AccessToken)) {
		t.Fatal("another session died with the reused one")
	}
}

func TestRefreshRules(t *testing.T) {
	t.Run("narrower scope, never wider", func(t *testing.T) {
		ts := newTestServer(t)
		rt := ts.login(t, "scope", "read").RefreshToken
		rec := ts.refresh(rt, "scope", "read write")
		if rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_scope" {
			t.Fatalf("wider scope: %d %s", rec.Code, rec.Body)
		}
		rt = ts.login(t).RefreshToken
		rec = ts.refresh(rt, "scope", "read")
		if rec.Code != http.StatusOK || decode[tokenResponse](t, rec).Scope != "read" {
			t.Fatalf("narrower scope: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("a scope taken from the user since", func(t *testing.T) {
		ts := newTestServer(t)
		rt := ts.login(t).RefreshToken
		u, _ := ts.store.GetUser(t.Context(), "alice")
		u.Scopes = []string{"read"}
		if err := ts.store.PutUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		rec := ts.refresh(rt)
		if rec.Code != http.StatusOK || decode[tokenResponse](t, rec).Scope != "read" {
			t.Fatalf("refresh after losing a scope: %d %s", rec.Code, rec.Body)
		}
	})
	for name, change := range map[string]func(u *store.User, now time.Time){
		"disabled":           func(u *store.User, _ time.Time) { u.Disabled = true },
		"password changed":   func(u *store.User, now time.Time) { u.NotBefore = now },
		"revokeTokensBefore": func(u *store.User, now time.Time) { u.NotBefore = now.Add(time.Second) },
	} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t)
			rt := ts.login(t).RefreshToken
			u, _ := ts.store.GetUser(t.Context(), "alice")
			change(&u, ts.clock.Now())
			if err := ts.store.PutUser(t.Context(), u); err != nil {
				t.Fatal(err)
			}
			ts.clock.Step(5 * time.Second)
			rec := ts.refresh(rt)
			if rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_grant" {
				t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
			}
		})
	}
	t.Run("user deleted", func(t *testing.T) {
		ts := newTestServer(t)
		rt := ts.login(t).RefreshToken
		if err := ts.store.(conformance.Store).DeleteUser(t.Context(), "alice"); err != nil {
			t.Fatal(err)
		}
		if rec := ts.refresh(rt); rec.Code != http.StatusBadRequest {
			t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		ts := newTestServer(t)
		rt := ts.login(t).RefreshToken
		ts.clock.Step(25 * time.Hour)
		if rec := ts.refresh(rt); rec.Code != http.StatusBadRequest {
			t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("bound to its client", func(t *testing.T) {
		ts := newTestServer(t)
		other := store.Client{ID: "reports", SecretHash: store.HashClientSecret(billingSecret + "-reports"),
			GrantTypes: []string{"password", "refresh_token"}}
		if err := ts.store.PutClient(t.Context(), other); err != nil {
			t.Fatal(err)
		}
		tr := ts.login(t)
		rec := ts.do(request{body: form("grant_type", "refresh_token", "refresh_token", tr.RefreshToken),
			headers: map[string]string{"Authorization": basic("reports", billingSecret+"-reports")}})
		if rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_grant" {
			t.Fatalf("another client's refresh token: %d %s", rec.Code, rec.Body)
		}
		// A leaked refresh token ends its session.
		if rec := ts.refresh(tr.RefreshToken); rec.Code != http.StatusBadRequest {
			t.Fatalf("the owner after a leak: %d", rec.Code)
		}
		if active(ts.introspect(t, tr.AccessToken)) {
			t.Fatal("the session's access token survived the leak")
		}
	})
	t.Run("bad input", func(t *testing.T) {
		ts := newTestServer(t)
		for body, want := range map[string]string{
			form("grant_type", "refresh_token"):                                           "invalid_request",
			form("grant_type", "refresh_token", "refresh_token", "short"):                 "invalid_grant",
			form("grant_type", "refresh_token", "refresh_token", "a b c d e f g h i j"):   "invalid_grant",
			form("grant_type", "refresh_token", "refresh_token", strings.Repeat("A", 43)): "invalid_grant",
		} {
			rec := ts.do(request{body: body, headers: billingAuth})
			if rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != want {
				t.Errorf("%s: %d %s", body, rec.Code, rec.Body)
			}
		}
	})
}

// A refused refresh that was not an attack (a wider scope than granted)
// does not spend the token: the client's corrected retry works.
func TestRefreshRetryAfterARefusal(t *testing.T) {
	ts := newTestServer(t)
	rt := ts.login(t, "scope", "read").RefreshToken
	if rec := ts.refresh(rt, "scope", "read write"); rec.Code != http.StatusBadRequest {
		t.Fatalf("wider scope: %d", rec.Code)
	}
	if rec := ts.refresh(rt, "scope", "read"); rec.Code != http.StatusOK {
		t.Fatalf("the retry with the granted scope: %d %s", rec.Code, rec.Body)
	}
}
