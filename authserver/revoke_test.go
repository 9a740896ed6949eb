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
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestRevokeEndpoint(t *testing.T) {
	ts := newTestServer(t)
	tr := ts.login(t)
	// RFC 7009 §2.1: token is REQUIRED.
	if rec := ts.post("/revoke", billingAuth); rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_request" {
		t.Fatalf("no token: %d %s", rec.Code, rec.Body)
	}
	// §2.2: unknown, malformed and already revoked tokens get 200.
	for _, tok := range []string{"nonsense", "a.b.c", strings.Repeat("x", 43)} {
		if rec := ts.post("/revoke", billingAuth, "token", tok); rec.Code != http.StatusOK {
			t.Fatalf("revoke %q: %d %s", tok, rec.Code, rec.Body)
		}
	}
	// Only the client the token was issued to may revoke it.
	public := ts.mustToken()
	if rec := ts.post("/revoke", billingAuth, "token", public); rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "unauthorized_client" {
		t.Fatalf("another client's token: %d %s", rec.Code, rec.Body)
	}
	if rec := ts.post("/revoke", map[string]string{"Authorization": basic("billing", "wrong")}, "token", tr.AccessToken); rec.Code != http.StatusUnauthorized {
		t.Fatalf("wrong client secret: %d", rec.Code)
	}
	// An access token, with a wrong hint: the hint changes nothing.
	if rec := ts.post("/revoke", billingAuth, "token", tr.AccessToken, "token_type_hint", "refresh_token"); rec.Code != http.StatusOK {
		t.Fatalf("revoke access token: %d %s", rec.Code, rec.Body)
	}
	if active(ts.introspect(t, tr.AccessToken)) {
		t.Fatal("revoked access token is active")
	}
	if rec := ts.post("/revoke", billingAuth, "token", tr.AccessToken); rec.Code != http.StatusOK {
		t.Fatalf("revoke again: %d", rec.Code)
	}
	// Revoking an access token ends its session (RFC 7009 §2.1 lets the
	// server revoke the grant): its refresh token goes too.
	if rec := ts.refresh(tr.RefreshToken); rec.Code != http.StatusBadRequest {
		t.Fatalf("refresh after revoking an access token: %d", rec.Code)
	}
	next := ts.login(t)
	// A refresh token: the whole session, access tokens included.
	if rec := ts.post("/revoke", billingAuth, "token", next.RefreshToken, "token_type_hint", "refresh_token"); rec.Code != http.StatusOK {
		t.Fatalf("revoke refresh token: %d %s", rec.Code, rec.Body)
	}
	if rec := ts.refresh(next.RefreshToken); rec.Code != http.StatusBadRequest {
		t.Fatalf("revoked refresh token: %d", rec.Code)
	}
	if active(ts.introspect(t, next.AccessToken)) {
		t.Fatal("access token of a revoked session is active")
	}
	// Public clients revoke their own tokens (client_id, no secret).
	pub := decode[tokenResponse](t, ts.token("grant_type", "password", "username", "alice", "password", alicePassword))
	if rec := ts.post("/revoke", nil, "token", pub.AccessToken, "client_id", "default"); rec.Code != http.StatusOK {
		t.Fatalf("public client revokes its token: %d %s", rec.Code, rec.Body)
	}
	ts.caughtUp()
	if rec := ts.userinfo("Bearer " + pub.AccessToken); rec.Code != http.StatusUnauthorized {
		t.Fatalf("userinfo with a revoked token: %d", rec.Code)
	}
	if rec := ts.do(request{method: http.MethodGet, path: "/revoke"}); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /revoke: %d", rec.Code)
	}
}

// Refreshing and revoking a session at the same moment leave no token of
// it alive, whichever wins.
func TestConcurrentRefreshAndRevokeLeaveNothing(t *testing.T) {
	ts := newTestServer(t)
	for range 20 {
		tr := ts.login(t)
		var wg sync.WaitGroup
		var refreshed *httptest.ResponseRecorder
		wg.Add(2)
		go func() { defer wg.Done(); refreshed = ts.refresh(tr.RefreshToken) }()
		go func() {
			defer wg.Done()
			if rec := ts.post("/revoke", billingAuth, "token", tr.RefreshToken); rec.Code != http.StatusOK {
				t.Errorf("revoke: %d", rec.Code)
			}
		}()
		wg.Wait()
		tokens := []string{tr.AccessToken, tr.RefreshToken}
		if refreshed.Code == http.StatusOK {
			next := decode[tokenResponse](t, refreshed)
			tokens = append(tokens, next.AccessToken, next.RefreshToken)
		}
		for _, tok := range tokens {
			if active(ts.introspect(t, tok)) {
				t.Fatalf("a token survived the revocation of its session (refresh answered %d)", refreshed.Code)
			}
		}
	}
}

// A session whose revocation stopped half-way (its refresh tokens revoked,
// its sid not: the second write failed) is finished by revoking again:
// /revoke does not answer "unknown token" and leave the access tokens
// alive, and neither does a refresh.
func TestRevokeFinishesAHalfRevokedSession(t *testing.T) {
	ts := newTestServer(t)
	for _, finish := range []string{"revoke", "refresh"} {
		tr := ts.login(t)
		if _, err := ts.store.RevokeSession(t.Context(), sessionOf(t, tr.RefreshToken)); err != nil {
			t.Fatal(err)
		}
		if !active(ts.introspect(t, tr.AccessToken)) {
			t.Fatal("the access token died with the refresh tokens alone")
		}
		switch finish {
		case "revoke":
			if rec := ts.post("/revoke", billingAuth, "token", tr.RefreshToken); rec.Code != http.StatusOK {
				t.Fatalf("revoke: %d", rec.Code)
			}
		case "refresh":
			if rec := ts.refresh(tr.RefreshToken); rec.Code != http.StatusBadRequest {
				t.Fatalf("refresh of a revoked session: %d", rec.Code)
			}
		}
		if active(ts.introspect(t, tr.AccessToken)) {
			t.Fatalf("%s of a half-revoked session left its access token alive", finish)
		}
		if active(ts.introspect(t, tr.RefreshToken)) {
			t.Fatal("a refresh token of a revoked session is active")
		}
	}
}
