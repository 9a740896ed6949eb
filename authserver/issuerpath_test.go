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

	"github.com/authstack/authstack/authserver"
)

const pathIssuer = "https://auth.example.test/tenants/a"

// An issuer with a path: every endpoint is served under it, the OAuth
// metadata at the RFC 8414 §3 location (the well-known suffix between the
// host and the path) and the OpenID configuration at OpenID Connect
// Discovery §4's (the issuer followed by the suffix); both say the issuer
// and the endpoint URLs exactly, and nothing is served at the root.
func TestIssuerWithAPath(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *authserver.Config) { c.Issuer = pathIssuer + "/" }))
	const prefix = "/tenants/a"
	for _, doc := range []string{
		"/.well-known/oauth-authorization-server" + prefix,
		prefix + "/.well-known/openid-configuration",
	} {
		rec := ts.do(request{method: http.MethodGet, path: doc})
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d", doc, rec.Code)
		}
		m := decode[map[string]any](t, rec)
		for member, want := range map[string]string{
			"issuer":                 pathIssuer,
			"token_endpoint":         pathIssuer + "/token",
			"jwks_uri":               pathIssuer + "/.well-known/jwks.json",
			"revocation_endpoint":    pathIssuer + "/revoke",
			"introspection_endpoint": pathIssuer + "/introspect",
			"userinfo_endpoint":      pathIssuer + "/userinfo",
		} {
			if m[member] != want {
				t.Errorf("%s: %s = %v, want %s", doc, member, m[member], want)
			}
		}
	}
	for _, root := range []string{"/token", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server",
		prefix + "/.well-known/oauth-authorization-server", "/verify", "/.well-known/jwks.json"} {
		if rec := ts.do(request{method: http.MethodGet, path: root}); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404 (served only under the issuer's path)", root, rec.Code)
		}
	}

	rec := ts.do(request{path: prefix + "/token", body: form("grant_type", "password", "username", "alice", "password", alicePassword, "scope", "read")})
	if rec.Code != http.StatusOK {
		t.Fatalf("POST %s/token: %d %s", prefix, rec.Code, rec.Body)
	}
	tok := decode[tokenResponse](t, rec).AccessToken
	if c := parseUnverified(t, tok); c.Issuer != pathIssuer {
		t.Errorf("iss %q, want %q", c.Issuer, pathIssuer)
	}
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	if rec := ts.do(request{method: http.MethodGet, path: prefix + "/userinfo", headers: bearer}); rec.Code != http.StatusOK {
		t.Errorf("GET %s/userinfo: %d %s", prefix, rec.Code, rec.Body)
	}
	// The gateway's requirements count on /verify under the issuer's path:
	// served there, a scope the token lacks is refused, not ignored as a
	// client's query below /verify would be.
	if rec := ts.do(request{method: http.MethodGet, path: prefix + "/verify?scope=read", headers: bearer}); rec.Code != http.StatusOK {
		t.Errorf("verify with a granted scope: %d %s", rec.Code, rec.Body)
	}
	rec = ts.do(request{method: http.MethodGet, path: prefix + "/verify?scope=write", headers: bearer})
	if rec.Code != http.StatusForbidden || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "insufficient_scope") {
		t.Errorf("verify with a missing scope: %d %q, want 403 insufficient_scope", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	// The metrics label the routes as under an issuer without a path.
	ts.do(request{method: http.MethodGet, path: prefix + "/verify/some/path", headers: bearer})
	metrics := ts.doOn(ts.srv.OpsHandler(), http.MethodGet, "/metrics").Body.String()
	for _, want := range []string{`handler="/token"`, `handler="/verify"`, `handler="/.well-known/oauth-authorization-server"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
