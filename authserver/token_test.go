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
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Every /token response, success or error, must forbid caching (RFC 6749 §5.1).
func assertNoStore(t *testing.T, h http.Header) {
	t.Helper()
	if h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" {
		t.Errorf("Cache-Control=%q Pragma=%q, want no-store and no-cache", h.Get("Cache-Control"), h.Get("Pragma"))
	}
}

func TestPasswordGrantIssuesRFC9068AccessToken(t *testing.T) {
	ts := newTestServer(t)
	rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword, "scope", "read")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	assertNoStore(t, rec.Header())
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	resp := decode[tokenResponse](t, rec)
	if resp.TokenType != "Bearer" || resp.ExpiresIn != int64((15*time.Minute).Seconds()) || resp.Scope != "read" {
		t.Errorf("response %+v", resp)
	}

	// The header: typ at+jwt, ES256, kid = the key's RFC 7638 thumbprint.
	parts := strings.Split(resp.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS compact serialization: %d parts", len(parts))
	}
	var header map[string]any
	if err := json.Unmarshal(mustB64(t, parts[0]), &header); err != nil {
		t.Fatal(err)
	}
	active := ts.keys.Current().Active
	if header["typ"] != "at+jwt" || header["alg"] != "ES256" || header["kid"] != active.ID {
		t.Errorf("header %v, want typ at+jwt, alg ES256, kid %s", header, active.ID)
	}

	// The claims, checked with the public key from the JWKS endpoint.
	jwks := ts.do(request{method: http.MethodGet, path: "/.well-known/jwks.json"})
	pub := publicKeyFromJWKS(t, jwks.Body.Bytes(), active.ID)
	var claims accesstoken.Claims
	if _, err := jwt.ParseWithClaims(resp.AccessToken, &claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"})); err != nil {
		t.Fatalf("token does not verify with the published key: %v", err)
	}
	if claims.Issuer != issuer || claims.Subject != "alice" || claims.ClientID != "default" || claims.Scope != "read" {
		t.Errorf("claims %+v", claims)
	}
	if !slices.Equal(claims.Audience, jwt.ClaimStrings{issuer}) {
		t.Errorf("aud %v, want the default audience (the issuer)", claims.Audience)
	}
	if !slices.Equal(claims.Groups, []string{"readers", "writers"}) {
		t.Errorf("groups %v", claims.Groups)
	}
	if claims.IssuedAt == nil || claims.ExpiresAt == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) != 15*time.Minute {
		t.Errorf("iat %v exp %v", claims.IssuedAt, claims.ExpiresAt)
	}
	if len(mustB64(t, claims.ID)) < 16 {
		t.Errorf("jti %q carries fewer than 128 bits", claims.ID)
	}
	if second := decode[tokenResponse](t, ts.token("grant_type", "password", "username", "alice", "password", alicePassword)); second.AccessToken == resp.AccessToken {
		t.Error("two tokens are identical: jti not random")
	}
}

func TestConfidentialClientGetsItsAudienceAndTTL(t *testing.T) {
	ts := newTestServer(t)
	for name, r := range map[string]request{
		"basic": {body: form("grant_type", "password", "username", "alice", "password", alicePassword),
			headers: map[string]string{"Authorization": basic("billing", billingSecret)}},
		"post": {body: form("grant_type", "password", "username", "alice", "password", alicePassword,
			"client_id", "billing", "client_secret", billingSecret)},
	} {
		t.Run(name, func(t *testing.T) {
			rec := ts.do(r)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			resp := decode[tokenResponse](t, rec)
			if resp.ExpiresIn != 300 || resp.Scope != "read write" {
				t.Errorf("response %+v", resp)
			}
			c := parseUnverified(t, resp.AccessToken)
			if c.ClientID != "billing" || !slices.Equal(c.Audience, jwt.ClaimStrings{billingAudience}) {
				t.Errorf("client_id %q aud %v", c.ClientID, c.Audience)
			}
		})
	}
}

func TestBcryptUser(t *testing.T) {
	ts := newTestServer(t)
	if rec := ts.token("grant_type", "password", "username", "bob", "password", bobPassword); rec.Code != http.StatusOK {
		t.Fatalf("bcrypt user: %d %s", rec.Code, rec.Body)
	}
}

// Bad credentials of every kind get one identical answer.
func TestBadCredentialsAreIndistinguishable(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.PerUserIP.Max = 0; c.PerIP.Max = 0 }))
	var bodies []string
	for name, kv := range map[string][]string{
		"wrong password": {"username", "alice", "password", "not-her-password"},
		"unknown user":   {"username", "mallory", "password", "whatever"},
		"disabled user":  {"username", "carol", "password", carolPassword},
		"bcrypt wrong":   {"username", "bob", "password", "builder-bob-78"},
	} {
		rec := ts.token(append([]string{"grant_type", "password"}, kv...)...)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d", name, rec.Code)
		}
		if e := decode[errorResponse](t, rec); e.Error != "invalid_grant" {
			t.Errorf("%s: error %q", name, e.Error)
		}
		assertNoStore(t, rec.Header())
		bodies = append(bodies, rec.Body.String())
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("bodies differ: %q vs %q", b, bodies[0])
		}
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	ok := []string{"grant_type", "password", "username", "alice", "password", alicePassword}
	cases := []struct {
		name   string
		req    request
		status int
		code   string
		header map[string]string
	}{
		{"GET is not allowed", request{method: http.MethodGet}, 405, "invalid_request", map[string]string{"Allow": "POST"}},
		{"PUT is not allowed", request{method: http.MethodPut, body: form(ok...)}, 405, "invalid_request", nil},
		{"JSON body", request{body: `{"grant_type":"password"}`, ctype: "application/json"}, 400, "invalid_request", nil},
		{"no content type", request{body: form(ok...), ctype: "-"}, 400, "invalid_request", nil},
		{"missing grant_type", request{body: form("username", "alice", "password", alicePassword)}, 400, "invalid_request", nil},
		{"empty grant_type is absent", request{body: form("grant_type", "", "username", "alice")}, 400, "invalid_request", nil},
		{"repeated grant_type", request{body: "grant_type=password&grant_type=password&username=alice&password=x"}, 400, "invalid_request", nil},
		{"repeated password", request{body: form(ok...) + "&password=other"}, 400, "invalid_request", nil},
		{"unsupported grant type", request{body: form("grant_type", "urn:ietf:params:oauth:grant-type:device_code")}, 400, "unsupported_grant_type", nil},
		{"authorization_code is not supported", request{body: form("grant_type", "authorization_code", "code", "x")}, 400, "unsupported_grant_type", nil},
		{"missing username", request{body: form("grant_type", "password", "password", alicePassword)}, 400, "invalid_request", nil},
		{"missing password", request{body: form("grant_type", "password", "username", "alice")}, 400, "invalid_request", nil},
		{"password in query", request{path: "/token?password=" + alicePassword, body: form("grant_type", "password", "username", "alice")}, 400, "invalid_request", nil},
		{"client secret in query", request{path: "/token?client_secret=x", body: form(ok...)}, 400, "invalid_request", nil},
		{"malformed form", request{body: "grant_type=password&username=%zz"}, 400, "invalid_request", nil},
		{"body too large", request{body: form(ok...) + "&pad=" + strings.Repeat("a", 17<<10)}, 413, "invalid_request", nil},
		{"scope not allowed to user", request{body: form(append(ok, "scope", "admin")...)}, 400, "invalid_scope", nil},
		{"scope not allowed to client", request{body: form("grant_type", "password", "username", "alice", "password", alicePassword, "client_id", "cli", "scope", "write")}, 400, "invalid_scope", nil},
		{"malformed scope", request{body: form(append(ok, "scope", "read  write")...)}, 400, "invalid_scope", nil},
		{"scope with a quote", request{body: form(append(ok, "scope", `re"ad`)...)}, 400, "invalid_scope", nil},
		{"wrong client secret (basic)", request{body: form(ok...), headers: map[string]string{"Authorization": basic("billing", "wrong")}}, 401, "invalid_client",
			map[string]string{"WWW-Authenticate": `Basic realm="authstack", charset="UTF-8"`}},
		{"wrong client secret (post)", request{body: form(append(ok, "client_id", "billing", "client_secret", "wrong")...)}, 401, "invalid_client", nil},
		{"unknown client", request{body: form(ok...), headers: map[string]string{"Authorization": basic("nobody", "x")}}, 401, "invalid_client", nil},
		{"confidential client without secret", request{body: form(append(ok, "client_id", "billing")...)}, 401, "invalid_client", nil},
		{"public client with a secret", request{body: form(ok...), headers: map[string]string{"Authorization": basic("cli", "x")}}, 401, "invalid_client", nil},
		{"bearer scheme at the token endpoint", request{body: form(ok...), headers: map[string]string{"Authorization": "Bearer abc"}}, 401, "invalid_client", nil},
		{"malformed basic", request{body: form(ok...), headers: map[string]string{"Authorization": "Basic !!!"}}, 401, "invalid_client", nil},
		{"two client authentication methods", request{body: form(append(ok, "client_secret", billingSecret)...), headers: map[string]string{"Authorization": basic("billing", billingSecret)}}, 400, "invalid_request", nil},
		{"client_id differs from basic", request{body: form(append(ok, "client_id", "cli")...), headers: map[string]string{"Authorization": basic("billing", billingSecret)}}, 400, "invalid_request", nil},
		{"client_secret without client_id", request{body: form(append(ok, "client_secret", "x")...)}, 400, "invalid_request", nil},
		{"grant not allowed for client", request{body: form(append(ok, "client_id", "refresh-only")...)}, 400, "unauthorized_client", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestServer(t)
			rec := ts.do(c.req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
			e := decode[errorResponse](t, rec)
			if e.Error != c.code || e.ErrorDescription == "" {
				t.Errorf("error %+v, want %s with a description", e, c.code)
			}
			assertNoStore(t, rec.Header())
			for k, v := range c.header {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if c.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestBasicCredentialsAreFormDecoded(t *testing.T) {
	ts := newTestServer(t)
	const id, secret = "odd:client id", "p@ss:w%rd+&="
	if err := ts.store.PutClient(t.Context(), storeClient(id, secret)); err != nil {
		t.Fatal(err)
	}
	rec := ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword),
		headers: map[string]string{"Authorization": basic(id, secret)}})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// curl -u id:secret sends the secret without form-encoding it, so the '+'
// that half of all base64 secrets hold arrives as a space (RFC 6749
// §2.3.1). The refusal says so, in the same words whether the client
// exists, the secret was otherwise right, or neither; and never logs it.
func TestBasicSecretWithAPlusGetsAHint(t *testing.T) {
	ts := newTestServer(t)
	const id, secret = "plus-client", "Qm5FUMpf+ozCYZp/hppZmc+exD/HZ9ENDOsY6+1cv5k="
	if err := ts.store.PutClient(t.Context(), storeClient(id, secret)); err != nil {
		t.Fatal(err)
	}
	raw := func(id, secret string) map[string]string { // as curl -u sends them
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}
	}
	body := form("grant_type", "password", "username", "alice", "password", alicePassword)
	const hint = "client credentials in HTTP Basic are form-encoded (RFC 6749 section 2.3.1): a '+' in a secret must be sent as %2B"
	var first string
	for name, auth := range map[string]map[string]string{
		"the right secret, not encoded": raw(id, secret),
		"a wrong secret with a plus":    raw(id, "wrong+secret-of-enough-length-0123456789"),
		"an unknown client":             raw("nobody", secret),
		"a public client":               raw("cli", secret),
	} {
		rec := ts.do(request{body: body, headers: auth})
		e := decode[errorResponse](t, rec)
		if rec.Code != http.StatusUnauthorized || e.Error != "invalid_client" || e.ErrorDescription != "client authentication failed; "+hint {
			t.Errorf("%s: %d %+v, want invalid_client with the hint", name, rec.Code, e)
		}
		if first == "" {
			first = rec.Body.String()
		} else if rec.Body.String() != first {
			t.Errorf("%s: body %s differs from %s", name, rec.Body, first)
		}
	}
	// Encoded, it works; a wrong secret without a space gets no hint, nor
	// does client_secret_post, which is not HTTP Basic.
	if rec := ts.do(request{body: body, headers: map[string]string{"Authorization": basic(id, secret)}}); rec.Code != http.StatusOK {
		t.Fatalf("the secret form-encoded: %d %s", rec.Code, rec.Body)
	}
	for name, req := range map[string]request{
		"no space":           {body: body, headers: raw(id, "wrong-secret-of-enough-length-0123456789")},
		"client_secret_post": {body: body + "&" + form("client_id", id, "client_secret", "wrong secret")},
	} {
		if e := decode[errorResponse](t, ts.do(req)); e.Error != "invalid_client" || e.ErrorDescription != "client authentication failed" {
			t.Errorf("%s: %+v, want invalid_client without a hint", name, e)
		}
	}
	// A '%' that starts no escape: the credentials were not encoded either.
	rec := ts.do(request{body: body, headers: raw(id, "100%-not-encoded-secret-0123456789")})
	if e := decode[errorResponse](t, rec); rec.Code != http.StatusUnauthorized || e.Error != "invalid_client" ||
		e.ErrorDescription != "malformed basic credentials; client credentials in HTTP Basic are form-encoded (RFC 6749 section 2.3.1): a '%' must be sent as %25" {
		t.Errorf("a bare %%: %d %+v", rec.Code, e)
	}
	if logs := ts.logs.String(); strings.Contains(logs, "Qm5FUMpf") || strings.Contains(logs, "not-encoded") {
		t.Errorf("a secret reached the log: %s", logs)
	}
}

func TestDefaultPublicClient(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.PublicClientID = "" }))
	rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword)
	if rec.Code != http.StatusUnauthorized || decode[errorResponse](t, rec).Error != "invalid_client" {
		t.Fatalf("without a default client: %d %s", rec.Code, rec.Body)
	}
	// A registered public client still works by naming itself.
	rec = ts.token("grant_type", "password", "username", "alice", "password", alicePassword, "client_id", "cli")
	if rec.Code != http.StatusOK {
		t.Fatalf("public client: %d %s", rec.Code, rec.Body)
	}
	if c := parseUnverified(t, decode[tokenResponse](t, rec).AccessToken); c.ClientID != "cli" || c.Scope != "read" {
		t.Errorf("client_id %q scope %q", c.ClientID, c.Scope)
	}
}

// A registered client with the default client's ID replaces the built-in one.
func TestDefaultClientCanBeOverridden(t *testing.T) {
	ts := newTestServer(t)
	c := storeClient("default", "")
	c.Scopes = []string{"read"}
	if err := ts.store.PutClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword)
	if rec.Code != http.StatusOK || decode[tokenResponse](t, rec).Scope != "read" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	// A confidential client under that ID cannot be used without its secret.
	if err := ts.store.PutClient(t.Context(), storeClient("default", "s")); err != nil {
		t.Fatal(err)
	}
	if rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword); rec.Code != http.StatusUnauthorized {
		t.Fatalf("confidential default client without secret: %d %s", rec.Code, rec.Body)
	}
}

func TestBcrypt72ByteLimitOverHTTP(t *testing.T) {
	ts := newTestServer(t)
	pw := strings.Repeat("x", 72)
	if err := ts.store.PutUser(t.Context(), bcryptUser(t, "long", pw)); err != nil {
		t.Fatal(err)
	}
	if rec := ts.token("grant_type", "password", "username", "long", "password", pw); rec.Code != http.StatusOK {
		t.Fatalf("72-byte password: %d %s", rec.Code, rec.Body)
	}
	if rec := ts.token("grant_type", "password", "username", "long", "password", pw+"suffix"); rec.Code != http.StatusBadRequest {
		t.Fatalf("72 bytes plus a suffix: %d %s", rec.Code, rec.Body)
	}
}

// /token, /revoke and /introspect take client credentials from one
// Authorization header: with two, which one counts would be a guess that a
// proxy in front need not share, so the request is refused, as the bearer
// endpoints refuse it.
func TestClientEndpointsRefuseTwoAuthorizationHeaders(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken()
	good, bad := basic("billing", billingSecret), basic("billing", "wrong-"+billingSecret)
	for _, c := range []struct{ path, body string }{
		{"/token", form("grant_type", "password", "username", "alice", "password", alicePassword)},
		{"/revoke", form("token", tok)},
		{"/introspect", form("token", tok)},
	} {
		for name, auth := range map[string][]string{
			"good then bad": {good, bad}, "bad then good": {bad, good}, "the same twice": {good, good},
		} {
			rec := ts.do(request{path: c.path, body: c.body, more: http.Header{"Authorization": auth}})
			if rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_request" {
				t.Errorf("%s, %s: %d %s, want 400 invalid_request", c.path, name, rec.Code, rec.Body)
			}
		}
	}
}

// Token lifetimes an AuthClient asks for are capped by the server: whoever
// may write a client registration cannot mint ten-year refresh tokens or
// access tokens that outlive the revocation memory.
func TestClientTokenLifetimesAreCapped(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) {
		c.MaxAccessTokenTTL, c.MaxRefreshTokenTTL = time.Hour, 48*time.Hour
	}))
	if err := ts.store.PutClient(t.Context(), store.Client{ID: "greedy", GrantTypes: []string{"password", "refresh_token"},
		AccessTokenTTL: 10 * 365 * 24 * time.Hour, RefreshTokenTTL: 10 * 365 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword, "client_id", "greedy")
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	tr := decode[tokenResponse](t, rec)
	if tr.ExpiresIn != int64(time.Hour/time.Second) {
		t.Fatalf("expires_in = %d, want the 1h cap", tr.ExpiresIn)
	}
	if c := parseUnverified(t, tr.AccessToken); c.ExpiresAt.Sub(c.IssuedAt.Time) != time.Hour {
		t.Fatalf("access token lives %v", c.ExpiresAt.Sub(c.IssuedAt.Time))
	}
	sess, err := ts.store.GetSession(t.Context(), sessionOf(t, tr.RefreshToken))
	if err != nil {
		t.Fatal(err)
	}
	if got := sess.TokenExpiresAt.Sub(sess.CreatedAt); got != 48*time.Hour {
		t.Fatalf("refresh token lives %v, want the 48h cap", got)
	}
	if _, err := authserver.New(authserver.Config{Issuer: issuer, Store: memory.New(), Keys: ts.keys, MaxAccessTokenTTL: 25 * time.Hour}); err == nil {
		t.Fatal("a maximum access-token lifetime beyond the revocation memory was accepted")
	}
}

// No access token outlives the revocation of its session: lifetimes are
// capped at the time a revoked session is remembered.
func TestAccessTokenLifetimeIsCapped(t *testing.T) {
	ts := newTestServer(t)
	c, _ := ts.store.GetClient(t.Context(), "billing")
	c.AccessTokenTTL = 72 * time.Hour
	if err := ts.store.PutClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	rec := ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword), headers: billingAuth})
	if got := decode[tokenResponse](t, rec).ExpiresIn; got != int64((24 * time.Hour).Seconds()) {
		t.Fatalf("expires_in %d, want the 24 h cap", got)
	}
}

// A public client that names itself in HTTP Basic with an empty secret
// (requests-oauthlib's default; RFC 6749 §2.3.1 lets a client send its
// client_id there) is that public client: it gets its tokens, at every
// endpoint that authenticates clients, and nothing is counted against the
// client throttle. A confidential client presenting an empty secret is
// refused without a count either: no secret was guessed.
func TestPublicClientWithAnEmptyBasicSecret(t *testing.T) {
	ts := newTestServer(t)
	empty := map[string]string{"Authorization": basic("cli", "")}
	login := form("grant_type", "password", "username", "alice", "password", alicePassword, "scope", "read")
	var tok tokenResponse
	for i := range 12 { // more than the throttle's 5 a minute
		rec := ts.do(request{body: login, headers: empty})
		if rec.Code != http.StatusOK {
			t.Fatalf("login %d: %d %s", i+1, rec.Code, rec.Body)
		}
		tok = decode[tokenResponse](t, rec)
	}
	if c := parseUnverified(t, tok.AccessToken); c.ClientID != "cli" {
		t.Errorf("client_id %q, want cli", c.ClientID)
	}
	if rec := ts.post("/revoke", empty, "token", tok.AccessToken); rec.Code != http.StatusOK {
		t.Errorf("revoke with an empty Basic secret: %d %s", rec.Code, rec.Body)
	}

	billing := map[string]string{"Authorization": basic("billing", "")}
	for i := range 12 {
		rec := ts.do(request{body: login, headers: billing})
		if rec.Code != http.StatusUnauthorized || decode[errorResponse](t, rec).Error != "invalid_client" {
			t.Fatalf("confidential client with an empty secret, try %d: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	if rec := ts.do(request{body: login, headers: map[string]string{"Authorization": basic("billing", billingSecret)}}); rec.Code != http.StatusOK {
		t.Errorf("the right secret after empty ones: %d %s (empty secrets were counted as guesses)", rec.Code, rec.Body)
	}
}
