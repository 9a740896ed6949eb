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
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
)

func TestDiscoveryDocuments(t *testing.T) {
	ts := newTestServer(t)
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		t.Run(path, func(t *testing.T) {
			rec := ts.do(request{method: http.MethodGet, path: path})
			if rec.Code != http.StatusOK {
				t.Fatalf("%d", rec.Code)
			}
			var m map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			// RFC 8414 §2 and §3.3: issuer identical to the configured one.
			want := map[string]any{
				"issuer":         issuer,
				"token_endpoint": issuer + "/token",
				"jwks_uri":       issuer + "/.well-known/jwks.json",
			}
			for k, v := range want {
				if m[k] != v {
					t.Errorf("%s = %v, want %v", k, m[k], v)
				}
			}
			if _, ok := m["response_types_supported"]; !ok {
				t.Error("response_types_supported is REQUIRED by RFC 8414")
			}
			if !slices.Contains(anyStrings(m["grant_types_supported"]), "password") {
				t.Errorf("grant_types_supported %v", m["grant_types_supported"])
			}
			if !slices.Contains(anyStrings(m["token_endpoint_auth_methods_supported"]), "client_secret_basic") {
				t.Errorf("token_endpoint_auth_methods_supported %v", m["token_endpoint_auth_methods_supported"])
			}
			// No authorization endpoint exists, so no member may describe
			// one or its requests.
			for k := range m {
				if strings.Contains(k, "request_object") || strings.Contains(k, "authorization_endpoint") {
					t.Errorf("%s advertises %s, which the server does not do", path, k)
				}
			}
			if !strings.Contains(path, "openid") {
				if _, ok := m["id_token_signing_alg_values_supported"]; ok {
					t.Error("the OAuth metadata describes ID tokens")
				}
				return
			}
			if !slices.Contains(anyStrings(m["subject_types_supported"]), "public") {
				t.Errorf("subject_types_supported %v", m["subject_types_supported"])
			}
			// ID tokens are signed with the keys' algorithm.
			if got := anyStrings(m["id_token_signing_alg_values_supported"]); !slices.Equal(got, []string{"ES256"}) {
				t.Errorf("id_token_signing_alg_values_supported %v, want [ES256]", got)
			}
			if got := anyStrings(m["scopes_supported"]); !slices.Equal(got, []string{"openid", "profile", "groups"}) {
				t.Errorf("scopes_supported %v", got)
			}
			// claims_supported is what ID tokens and /userinfo hold, no more.
			resp := decode[tokenResponse](t, ts.token("grant_type", "password", "username", "alice", "password", alicePassword,
				"scope", "openid groups read"))
			info := decode[map[string]any](t, ts.userinfo("Bearer "+resp.AccessToken))
			var id map[string]any
			if err := json.Unmarshal(mustB64(t, strings.Split(resp.IDToken, ".")[1]), &id); err != nil {
				t.Fatal(err)
			}
			maps.Copy(info, id)
			claims, held := anyStrings(m["claims_supported"]), slices.Sorted(maps.Keys(info))
			if slices.Sort(claims); !slices.Equal(claims, held) {
				t.Errorf("claims_supported %v, want the members of ID tokens and /userinfo %v", claims, held)
			}
		})
	}
	if rec := ts.do(request{method: http.MethodPost, path: "/.well-known/jwks.json"}); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST jwks: %d", rec.Code)
	}
}

func TestJWKSPublishesEveryKeyAndNoPrivateMember(t *testing.T) {
	ts := newTestServer(t)
	rec := ts.do(request{method: http.MethodGet, path: "/.well-known/jwks.json"})
	if ct := rec.Header().Get("Content-Type"); ct != "application/jwk-set+json" {
		t.Errorf("Content-Type %q", ct)
	}
	publicKeyFromJWKS(t, rec.Body.Bytes(), ts.keys.Current().Active.ID) // fails on private members
}

func TestProbes(t *testing.T) {
	ts := newTestServer(t)
	for _, h := range []http.Handler{ts.handler, ts.srv.OpsHandler()} {
		for _, p := range []string{"/healthz", "/readyz"} {
			rec := ts.doOn(h, http.MethodGet, p)
			if rec.Code != http.StatusOK {
				t.Errorf("%s: %d", p, rec.Code)
			}
		}
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestIssuerRules(t *testing.T) {
	for issuer, ok := range map[string]bool{
		"https://auth.example.com":        true,
		"https://auth.example.com/":       true,
		"http://auth.example.com":         false, // RFC 8414 §2: https
		"https://auth.example.com/realm":  true,  // routes are mounted under the path
		"https://auth.example.com/a/../b": false,
		"https://auth.example.com?x=1":    false,
		"https://auth.example.com#f":      false,
		"https://user@auth.example.com":   false,
		"auth.example.com":                false,
	} {
		_, err := authserver.New(authserver.Config{Issuer: issuer, Store: memory.New(), Keys: newTestServer(t).keys})
		if (err == nil) != ok {
			t.Errorf("issuer %q: err = %v", issuer, err)
		}
	}
	_, err := authserver.New(authserver.Config{Issuer: "http://127.0.0.1:8080", AllowHTTPIssuer: true, Store: memory.New(), Keys: newTestServer(t).keys})
	if err != nil {
		t.Errorf("http issuer when allowed: %v", err)
	}
	// A limit without a window would refuse every login.
	_, err = authserver.New(authserver.Config{Issuer: "https://a.example", Store: memory.New(), Keys: newTestServer(t).keys,
		PerIP: throttle.Limit{Max: 5}})
	if err == nil {
		t.Error("a throttle limit without a window was accepted")
	}
}

func TestDiscoveryListsRevocationAndIntrospection(t *testing.T) {
	ts := newTestServer(t)
	m := decode[map[string]any](t, ts.do(request{method: http.MethodGet, path: "/.well-known/oauth-authorization-server"}))
	if m["revocation_endpoint"] != issuer+"/revoke" || m["introspection_endpoint"] != issuer+"/introspect" {
		t.Fatalf("metadata %v", m)
	}
	if gts := anyStrings(m["grant_types_supported"]); !slices.Equal(gts, []string{"password", "refresh_token", "client_credentials"}) {
		t.Fatalf("grant_types_supported %v", gts)
	}
}

// private_key_jwt is advertised at every endpoint that authenticates
// clients, with the algorithms RFC 8414 §2 then requires.
func TestDiscoveryListsPrivateKeyJWT(t *testing.T) {
	ts := newTestServer(t)
	m := decode[map[string]any](t, ts.do(request{method: http.MethodGet, path: "/.well-known/oauth-authorization-server"}))
	for _, member := range []string{
		"token_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported",
	} {
		if !slices.Contains(anyStrings(m[member]), "private_key_jwt") {
			t.Errorf("%s %v, want private_key_jwt", member, m[member])
		}
	}
	for _, member := range []string{
		"token_endpoint_auth_signing_alg_values_supported", "revocation_endpoint_auth_signing_alg_values_supported",
		"introspection_endpoint_auth_signing_alg_values_supported",
	} {
		if got := anyStrings(m[member]); !slices.Equal(got, []string{"ES256", "ES384", "EdDSA", "RS256"}) {
			t.Errorf("%s %v", member, got)
		}
	}
}

// noKeys is a key source that has loaded nothing yet.
type noKeys struct{}

func (noKeys) Current() *signer.KeySet { return nil }

// A key source without keys (a server waiting for its key Secret) is
// answered 503 at the JWKS endpoint, as at /readyz, never a crash; and
// every endpoint that signs or verifies tokens answers the one
// temporarily_unavailable error, never a verdict on the token or a 500.
func TestWithoutKeysIs503(t *testing.T) {
	st := memory.New()
	if err := st.PutClient(t.Context(), store.Client{ID: "rs", SecretHash: store.HashClientSecret("rs-secret")}); err != nil {
		t.Fatal(err)
	}
	srv, err := authserver.New(authserver.Config{Issuer: "https://auth.example.test", Store: st, Keys: noKeys{}})
	if err != nil {
		t.Fatal(err)
	}
	// Nor is the OpenID configuration served without the REQUIRED
	// id_token_signing_alg_values_supported, which the keys give.
	for _, path := range []string{"/.well-known/jwks.json", "/.well-known/openid-configuration"} {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s without keys: %d %s", path, rec.Code, rec.Body)
		}
	}
	for path, form := range map[string]string{
		"/token":      "grant_type=client_credentials",
		"/introspect": "token=a.b.c",
		"/revoke":     "token=a.b.c",
	} {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("rs", "rs-secret")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" ||
			rec.Body.String() != `{"error":"temporarily_unavailable","error_description":"signing keys not loaded yet"}`+"\n" {
			t.Errorf("POST %s without keys: %d %v %s", path, rec.Code, rec.Header(), rec.Body)
		}
	}
}
