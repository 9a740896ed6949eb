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
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// idClaims are the members of an ID token this test reads.
type idClaims struct {
	PreferredUsername string   `json:"preferred_username"`
	Groups            []string `json:"groups"`
	AuthTime          int64    `json:"auth_time"`
	SessionID         string   `json:"sid"`
	Nonce             *string  `json:"nonce"`
}

// serveTLSAs serves ts over TLS on loopback and returns a client that
// reaches it under the test's issuer's host name.
func serveTLSAs(t *testing.T, ts *testServer) *http.Client {
	t.Helper()
	srv := httptest.NewTLSServer(ts.handler)
	t.Cleanup(srv.Close)
	c := srv.Client()
	tr := c.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.ServerName = "example.com" // a name httptest's certificate holds
	addr := srv.Listener.Addr().String()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) { return dial(ctx, network, addr) }
	c.Transport = tr
	return c
}

// An OpenID Connect relying party built on golang.org/x/oauth2 and
// github.com/coreos/go-oidc/v3 finds the provider under an issuer with a
// path, logs in with the password grant and scope "openid groups", and
// verifies the ID token with the keys and algorithms discovery gives; a
// refresh returns an ID token of the same session (OpenID Connect Core
// §12.2). The client is public and x/oauth2 sends its client_id in HTTP
// Basic with an empty secret.
func TestIDTokensVerifyWithGoOIDC(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *authserver.Config) { c.Issuer = pathIssuer }))
	if err := ts.store.PutClient(t.Context(), store.Client{ID: "kubectl", GrantTypes: []string{"password", "refresh_token"}, Scopes: []string{"read", "openid", "groups"}}); err != nil {
		t.Fatal(err)
	}
	ctx := oidc.ClientContext(t.Context(), serveTLSAs(t, ts))
	provider, err := oidc.NewProvider(ctx, pathIssuer)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oauth2.Config{ClientID: "kubectl", Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "groups", "read"}}
	tok, err := cfg.PasswordCredentialsToken(ctx, "Alice", alicePassword)
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: "kubectl", Now: ts.clock.Now})
	verify := func(tok *oauth2.Token) (*oidc.IDToken, idClaims) {
		t.Helper()
		raw, ok := tok.Extra("id_token").(string)
		if !ok {
			t.Fatal("no id_token in the token response")
		}
		idt, err := verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("go-oidc refuses the ID token: %v", err)
		}
		var c idClaims
		if err := idt.Claims(&c); err != nil {
			t.Fatal(err)
		}
		// ID tokens are no access tokens (RFC 9068 §4: typ at+jwt).
		if rec := ts.do(request{method: http.MethodGet, path: "/tenants/a/userinfo", headers: map[string]string{"Authorization": "Bearer " + raw}}); rec.Code != http.StatusUnauthorized {
			t.Errorf("/userinfo took an ID token as an access token: %d", rec.Code)
		}
		return idt, c
	}
	idt, c := verify(tok)
	if idt.Issuer != pathIssuer || idt.Subject != "alice" || !slices.Equal(idt.Audience, []string{"kubectl"}) {
		t.Errorf("iss %q sub %q aud %q", idt.Issuer, idt.Subject, idt.Audience)
	}
	if c.PreferredUsername != "alice" || !slices.Equal(c.Groups, []string{"readers", "writers"}) || c.AuthTime == 0 || c.Nonce != nil {
		t.Errorf("claims %+v", c)
	}
	at := parseUnverified(t, tok.AccessToken)
	if !idt.Expiry.Equal(at.ExpiresAt.Time) || !idt.IssuedAt.Equal(at.IssuedAt.Time) {
		t.Errorf("the ID token is of %v to %v, its access token of %v to %v", idt.IssuedAt, idt.Expiry, at.IssuedAt, at.ExpiresAt)
	}
	if at.PreferredUsername != "alice" || at.SessionID != c.SessionID {
		t.Errorf("access token preferred_username %q sid %q, ID token sid %q", at.PreferredUsername, at.SessionID, c.SessionID)
	}

	// The refresh: same iss, sub, aud and auth_time (Core §12.2).
	ts.clock.Step(2 * time.Second)
	tok.Expiry = time.Now().Add(-time.Hour)
	fresh, err := cfg.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatal(err)
	}
	idt2, c2 := verify(fresh)
	if idt2.Subject != idt.Subject || idt2.Issuer != idt.Issuer || !slices.Equal(idt2.Audience, idt.Audience) ||
		c2.AuthTime != c.AuthTime || c2.SessionID != c.SessionID || !idt2.IssuedAt.After(idt.IssuedAt) {
		t.Errorf("refreshed ID token %+v %+v, first %+v %+v", idt2, c2, idt, c)
	}
}

// openid, profile and groups are scopes every user may ask for, whatever
// her AuthUser lists; a client that lists scopes lists them too. Without
// openid there is no ID token, and groups only reach an ID token whose
// grant holds the groups scope. They are not authorization scopes: an
// access token carries them only for a user whose AuthUser lists them, so
// a resource server requiring a scope of that name is not passed by every
// user that asked for an ID token.
func TestOpenIDScopes(t *testing.T) {
	ts := newTestServer(t)
	ctx := t.Context()
	if err := ts.store.PutClient(ctx, store.Client{ID: "oidc", GrantTypes: []string{"password"}, Scopes: []string{"read", "openid", "profile"}}); err != nil {
		t.Fatal(err)
	}
	if err := ts.store.PutUser(ctx, store.User{Username: "gina", PasswordHash: authtest.Hash(t, alicePassword), Scopes: []string{"read", "groups"}, Groups: []string{"g"}}); err != nil {
		t.Fatal(err)
	}
	login := func(user, client, scope string) *httptestRecorder {
		t.Helper()
		return ts.token("grant_type", "password", "username", user, "password", alicePassword, "client_id", client, "scope", scope)
	}
	ok := func(rec *httptestRecorder) tokenResponse {
		t.Helper()
		if rec.Code != http.StatusOK {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		return decode[tokenResponse](t, rec)
	}
	if r := ok(login("alice", "oidc", "read")); r.IDToken != "" {
		t.Error("an ID token without the openid scope")
	}
	r := ok(login("alice", "oidc", "openid profile read"))
	if r.IDToken == "" {
		t.Fatal("no ID token with the openid scope")
	}
	if strings.Contains(string(mustB64(t, strings.Split(r.IDToken, ".")[1])), `"groups"`) {
		t.Error("groups in an ID token without the groups scope")
	}
	// The access token and the response hold the authorization scopes only.
	if c := parseUnverified(t, r.AccessToken); c.Scope != "read" || r.Scope != "read" {
		t.Errorf("access token scope %q, response scope %q; want read", c.Scope, r.Scope)
	}
	bearer := map[string]string{"Authorization": "Bearer " + r.AccessToken}
	for _, scope := range []string{"openid", "profile"} {
		if rec := ts.do(request{method: http.MethodGet, path: "/verify?scope=" + scope, headers: bearer}); rec.Code != http.StatusForbidden {
			t.Errorf("/verify?scope=%s passed with an access token of an OpenID Connect grant: %d", scope, rec.Code)
		}
	}
	// A client that lists scopes restricts these as well.
	for _, scope := range []string{"openid groups", "openid write"} {
		if rec := login("alice", "oidc", scope); rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_scope" {
			t.Errorf("scope %q, which the client does not list: %d %s", scope, rec.Code, rec.Body)
		}
	}
	// A user whose AuthUser lists one of the names holds it as an
	// authorization scope too, as before.
	r = ok(login("gina", "", "openid groups")) // the default client lists no scopes
	if c := parseUnverified(t, r.AccessToken); c.Scope != "groups" {
		t.Errorf("gina's access token scope %q, want groups (her AuthUser lists it)", c.Scope)
	}
}

// The server says at start when its signing key's algorithm is one
// kube-apiserver cannot verify, and which to use instead.
func TestWarnsOfAnAlgorithmKubernetesCannotVerify(t *testing.T) {
	const warning = "cannot be verified by kube-apiserver"
	for alg, warns := range map[string]bool{signer.AlgEdDSA: true, signer.AlgES256: false, signer.AlgRS256: false} {
		keys := signer.Static(authtest.KeySet(t, alg))
		ts := newTestServer(t, withConfig(func(c *authserver.Config) { c.Keys = keys }))
		if got := strings.Contains(ts.logs.String(), warning); got != warns {
			t.Errorf("%s: warned %t, want %t: %s", alg, got, warns, ts.logs.String())
		}
		if warns && !strings.Contains(ts.logs.String(), "ES256") {
			t.Errorf("%s: the warning does not say which algorithm to use", alg)
		}
	}
}
