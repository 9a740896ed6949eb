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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/authstack/authstack/authserver/clientauth"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/testing/redistest"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

const (
	svcSecret     = "svc-secret-with-enough-entropy"
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// clientKey is a program's signing key, whose public half its client
// record lists under the program's own kid.
type clientKey struct {
	priv *ecdsa.PrivateKey
	kid  string
}

func newClientKey(t testing.TB, kid string) *clientKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &clientKey{priv: priv, kid: kid}
}

// jwks is the JWK Set of the key's public half.
func (k *clientKey) jwks(t testing.TB) string {
	t.Helper()
	pub, err := signer.NewPublicKey(&k.priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(pub.JWK())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["kid"] = k.kid
	doc, err := json.Marshal(map[string]any{"keys": []any{m}})
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// sign returns claims signed with the key, its kid in the header.
func (k *clientKey) sign(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	return k.signHeader(t, claims, nil)
}

// signHeader is sign with more header parameters.
func (k *clientKey) signHeader(t testing.TB, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = k.kid
	maps.Copy(tok.Header, header)
	s, err := tok.SignedString(k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertionClaims are the claims of a good assertion of client id, by the
// server's clock.
func (ts *testServer) assertionClaims(id string) jwt.MapClaims {
	now := ts.clock.Now()
	return jwt.MapClaims{
		"iss": id, "sub": id, "aud": issuer + "/token", "jti": rand.Text(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
}

// programs are the clients of programs: svc (a secret), keyed
// (private_key_jwt) and other (another private_key_jwt client), each
// allowed client_credentials with scopes read and write; public-cc, a
// public client whose record lists the grant; and pod, naming a
// ServiceAccount.
type programs struct {
	keyed, other *clientKey
}

func (ts *testServer) addPrograms(t testing.TB) programs {
	t.Helper()
	p := programs{keyed: newClientKey(t, "keyed-2026"), other: newClientKey(t, "other-1")}
	cc := []string{"client_credentials"}
	ts.addClients(t, []store.Client{
		{ID: "svc", SecretHash: store.HashClientSecret(svcSecret), GrantTypes: cc, Scopes: []string{"read", "write"}},
		{ID: "keyed", JWKS: p.keyed.jwks(t), GrantTypes: cc, Scopes: []string{"read", "write"}},
		{ID: "other", JWKS: p.other.jwks(t), GrantTypes: cc, Scopes: []string{"read"}},
		{ID: "public-cc", GrantTypes: cc, Scopes: []string{"read"}},
		{ID: "pod", ServiceAccount: &store.ServiceAccount{Namespace: "apps", Name: "worker", UID: "u-1"}, GrantTypes: cc},
	}...)
	return p
}

// addClients stores the client records, each from the AuthClient
// apps/<id>.
func (ts *testServer) addClients(t testing.TB, clients ...store.Client) {
	t.Helper()
	for _, c := range clients {
		c.Source = "apps/" + c.ID
		if err := ts.store.PutClient(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	ts.caughtUp()
}

// A program gets a token for itself through the real x/oauth2
// clientcredentials package: with its secret in the header or the body,
// or with a signed assertion. The token is the client's own: sub
// client:<id>, no username, groups, session or refresh token.
func TestOAuth2ClientCredentials(t *testing.T) {
	ts := newTestServer(t)
	p := ts.addPrograms(t)
	hs := newHTTPServer(t, ts)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, hs.Client())
	tokenURL := hs.URL + "/token"

	assertion := func(aud string) url.Values {
		c := ts.assertionClaims("keyed")
		c["aud"] = aud
		return url.Values{"client_assertion_type": {assertionType}, "client_assertion": {p.keyed.sign(t, c)}}
	}
	for name, tc := range map[string]struct {
		cfg       clientcredentials.Config
		sub, scop string
	}{
		"secret in header": {clientcredentials.Config{ClientID: "svc", ClientSecret: svcSecret, TokenURL: tokenURL,
			AuthStyle: oauth2.AuthStyleInHeader, Scopes: []string{"read"}}, "client:svc", "read"},
		"secret in params, every scope by default": {clientcredentials.Config{ClientID: "svc", ClientSecret: svcSecret, TokenURL: tokenURL,
			AuthStyle: oauth2.AuthStyleInParams}, "client:svc", "read write"},
		"private_key_jwt, aud the token endpoint": {clientcredentials.Config{ClientID: "keyed", TokenURL: tokenURL,
			AuthStyle: oauth2.AuthStyleInParams, EndpointParams: assertion(issuer + "/token"), Scopes: []string{"write"}}, "client:keyed", "write"},
		"private_key_jwt, aud the issuer": {clientcredentials.Config{ClientID: "keyed", TokenURL: tokenURL,
			AuthStyle: oauth2.AuthStyleInParams, EndpointParams: assertion(issuer)}, "client:keyed", "read write"},
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := tc.cfg.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != "Bearer" || tok.RefreshToken != "" || tok.Extra("id_token") != nil || tok.Extra("scope") != tc.scop {
				t.Fatalf("token %+v scope %v, want a Bearer token without refresh or ID token, scope %q", tok, tok.Extra("scope"), tc.scop)
			}
			c := parseUnverified(t, tok.AccessToken)
			if c.Subject != tc.sub || c.ClientID != tc.cfg.ClientID || c.Scope != tc.scop || c.PreferredUsername != "" ||
				c.Groups != nil || c.SessionID != "" || c.AuthTime == nil || c.Credential == 0 || !slices.Equal(c.Audience, []string{issuer}) {
				t.Fatalf("claims %+v", c)
			}
		})
	}
}

// The grant's own refusals: public clients, clients that do not list it,
// and scopes outside the client's or about a user.
func TestClientCredentialsRefusals(t *testing.T) {
	ts := newTestServer(t)
	ts.addPrograms(t)
	svc := map[string]string{"Authorization": basic("svc", svcSecret)}
	for name, tc := range map[string]struct {
		auth map[string]string
		kv   []string
		code string
	}{
		"public client listing it":     {nil, []string{"client_id", "public-cc"}, "unauthorized_client"},
		"default public client":        {nil, nil, "unauthorized_client"},
		"client not listing it":        {billingAuth, nil, "unauthorized_client"},
		"openid scope":                 {svc, []string{"scope", "openid"}, "invalid_scope"},
		"profile scope":                {svc, []string{"scope", "read profile"}, "invalid_scope"},
		"scope outside the client's":   {svc, []string{"scope", "read admin"}, "invalid_scope"},
		"malformed scope":              {svc, []string{"scope", "read  write"}, "invalid_scope"},
		"secret of another client":     {map[string]string{"Authorization": basic("svc", billingSecret)}, nil, "invalid_client"},
		"assertion client with secret": {map[string]string{"Authorization": basic("keyed", svcSecret)}, nil, "invalid_client"},
	} {
		rec := ts.do(request{body: form(append([]string{"grant_type", "client_credentials"}, tc.kv...)...), headers: tc.auth})
		if e := decode[errorResponse](t, rec); e.Error != tc.code || rec.Code >= 500 || strings.Contains(rec.Body.String(), "access_token") {
			t.Errorf("%s: %d %s, want %s", name, rec.Code, rec.Body, tc.code)
		}
	}
}

// Every bad assertion is invalid_client, 401 with the Basic challenge,
// never a 500, and its description never echoes it. A refusal that
// depends on the registered client (whether it exists, how it
// authenticates, its keys, its ServiceAccount) is the one description
// "client authentication failed", its reason in the log.
func TestClientAssertionRefusals(t *testing.T) {
	ts := newTestServer(t)
	p := ts.addPrograms(t)
	ts.addClients(t,
		store.Client{ID: "broken", JWKS: `{"keys":"not a key set"}`, GrantTypes: []string{"client_credentials"}},
		store.Client{ID: "pod-gone", ServiceAccount: &store.ServiceAccount{Namespace: "apps", Name: "gone"}, GrantTypes: []string{"client_credentials"}},
	)
	good := func() jwt.MapClaims { return ts.assertionClaims("keyed") }
	edit := func(kv ...any) string {
		c := good()
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(c, kv[i].(string))
			} else {
				c[kv[i].(string)] = kv[i+1]
			}
		}
		return p.keyed.sign(t, c)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, good()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	hmac := jwt.NewWithClaims(jwt.SigningMethodHS256, good())
	hmac.Header["kid"] = p.keyed.kid
	hs256, err := hmac.SignedString([]byte(p.keyed.jwks(t)))
	if err != nil {
		t.Fatal(err)
	}
	now := ts.clock.Now()
	valid := p.keyed.sign(t, good())
	parts := strings.Split(valid, ".")
	const saSub = "system:serviceaccount:apps:worker"
	var seen []string
	for name, tc := range map[string]struct {
		assertion string
		kv        []string
		// uniform: the description is "client authentication failed".
		uniform bool
	}{
		"alg none":                          {assertion: none},
		"HS256 with the public key":         {assertion: hs256},
		"wrong key":                         {assertion: (&clientKey{priv: newClientKey(t, "").priv, kid: p.keyed.kid}).sign(t, good()), uniform: true},
		"another client's key":              {assertion: p.other.sign(t, good()), uniform: true},
		"another client's key, its own kid": {assertion: (&clientKey{priv: p.other.priv, kid: p.other.kid}).sign(t, good()), uniform: true},
		"expired":                           {assertion: edit("exp", now.Add(-time.Minute).Unix(), "iat", now.Add(-2*time.Minute).Unix())},
		"exp too far ahead":                 {assertion: edit("exp", now.Add(time.Hour).Unix())},
		"no exp":                            {assertion: edit("exp", nil)},
		"not valid yet":                     {assertion: edit("nbf", now.Add(time.Minute).Unix())},
		"iat in the future":                 {assertion: edit("iat", now.Add(time.Minute).Unix())},
		"no jti":                            {assertion: edit("jti", nil)},
		"jti too long":                      {assertion: edit("jti", strings.Repeat("j", 257))},
		"aud another server":                {assertion: edit("aud", "https://elsewhere.example.test/token")},
		"aud the token URL's prefix":        {assertion: edit("aud", issuer+"/tok")},
		"no aud":                            {assertion: edit("aud", nil)},
		"iss is not sub":                    {assertion: edit("sub", "other")},
		"iss another client":                {assertion: edit("iss", "other", "sub", "other"), uniform: true},
		"no iss or sub":                     {assertion: edit("iss", nil, "sub", nil)},
		"client_id not iss":                 {assertion: valid, kv: []string{"client_id", "other"}, uniform: true},
		"unknown client":                    {assertion: edit("iss", "nobody", "sub", "nobody"), uniform: true},
		"invalid client name":               {assertion: edit("iss", "no/body", "sub", "no/body"), uniform: true},
		"secret client":                     {assertion: edit("iss", "svc", "sub", "svc"), uniform: true},
		"public client":                     {assertion: edit("iss", "public-cc", "sub", "public-cc"), uniform: true},
		"huge":                              {assertion: edit("pad", strings.Repeat("p", 9<<10))},
		"malformed base64":                  {assertion: parts[0] + ".!!!." + parts[2]},
		"malformed JSON":                    {assertion: parts[0] + "." + b64url(`{"iss":"keyed"`) + "." + parts[2]},
		"payload not an object":             {assertion: parts[0] + "." + b64url(`[]`) + "." + parts[2]},
		"kid not a string":                  {assertion: b64url(`{"alg":"ES256","kid":7}`) + "." + parts[1] + "." + parts[2], uniform: true},
		"unknown kid":                       {assertion: b64url(`{"alg":"ES256","kid":"nope"}`) + "." + parts[1] + "." + parts[2], uniform: true},
		"signature of another header":       {assertion: b64url(`{"alg":"ES256"}`) + "." + parts[1] + "." + parts[2], uniform: true},
		"three dots":                        {assertion: "..."},
		"two dots":                          {assertion: ".."},
		"not a JWT":                         {assertion: "keyed"},
		"empty":                             {kv: []string{"client_assertion", ""}},
		"unsupported type":                  {assertion: valid, kv: []string{"client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"}},
		"with a client secret":              {assertion: valid, kv: []string{"client_id", "keyed", "client_secret", "x"}},
		"ServiceAccount client without a verifier": {assertion: valid, kv: []string{"client_id", "pod"}, uniform: true},
		"ServiceAccount client without a UID":      {assertion: valid, kv: []string{"client_id", "pod-gone"}, uniform: true},
		"ServiceAccount client without client_id":  {assertion: edit("iss", "pod", "sub", "pod"), uniform: true},
		"ServiceAccount token of a keyed client":   {assertion: edit("sub", saSub), kv: []string{"client_id", "keyed"}, uniform: true},
		"ServiceAccount token without client_id":   {assertion: edit("sub", saSub)},
		"unusable registered keys":                 {assertion: edit("iss", "broken", "sub", "broken"), uniform: true},
		"aud two values, one of them good":         {assertion: edit("aud", []string{"https://evil.example", issuer + "/token"})},
		"aud the issuer twice":                     {assertion: edit("aud", []string{issuer, issuer})},
		"crit header":                              {assertion: p.keyed.signHeader(t, good(), map[string]any{"crit": []string{"exp"}})},
		"typ of an access token":                   {assertion: p.keyed.signHeader(t, good(), map[string]any{"typ": "at+jwt"})},
		"typ application/at+jwt":                   {assertion: p.keyed.signHeader(t, good(), map[string]any{"typ": "application/at+jwt"})},
		"typ not a string":                         {assertion: p.keyed.signHeader(t, good(), map[string]any{"typ": 1})},
	} {
		// Each from its own address: the refusals count on keyed's
		// throttle, per address.
		from := "198.51.100." + strconv.Itoa(len(seen)) + ":1"
		seen = append(seen, name)
		t.Run(name, func(t *testing.T) {
			kv := []string{"grant_type", "client_credentials", "client_assertion_type", assertionType, "client_assertion", tc.assertion}
			for i := 0; i+1 < len(tc.kv); i += 2 {
				kv = replaceParam(kv, tc.kv[i], tc.kv[i+1])
			}
			rec := ts.do(request{body: form(kv...), remote: from})
			e := decode[errorResponse](t, rec)
			if rec.Code != http.StatusUnauthorized || e.Error != "invalid_client" || e.ErrorDescription == "" ||
				rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatalf("%d %+v (challenge %q), want 401 invalid_client with a description", rec.Code, e, rec.Header().Get("WWW-Authenticate"))
			}
			if tc.assertion != "" && len(tc.assertion) > 8 && strings.Contains(rec.Body.String(), tc.assertion[len(tc.assertion)-8:]) {
				t.Errorf("the answer echoes the assertion: %s", rec.Body)
			}
			if got := e.ErrorDescription == "client authentication failed"; got != tc.uniform {
				t.Errorf("description %q; want %q: %v", e.ErrorDescription, "client authentication failed", tc.uniform)
			}
		})
	}
	// An assertion and Basic credentials: two methods (RFC 7521 §4.2.1).
	rec := ts.do(request{body: form("grant_type", "client_credentials", "client_assertion_type", assertionType, "client_assertion", valid),
		headers: map[string]string{"Authorization": basic("svc", svcSecret)}})
	if e := decode[errorResponse](t, rec); rec.Code != http.StatusUnauthorized || e.Error != "invalid_client" {
		t.Errorf("assertion and Basic: %d %+v", rec.Code, e)
	}
	// An assertion without its type is a malformed request.
	rec = ts.do(request{body: form("grant_type", "client_credentials", "client_assertion", valid)})
	if e := decode[errorResponse](t, rec); rec.Code != http.StatusBadRequest || e.Error != "invalid_request" {
		t.Errorf("assertion without type: %d %+v", rec.Code, e)
	}
	// And the good assertion, untouched by all of the above, works once.
	if rec := ts.do(request{body: form("grant_type", "client_credentials", "client_assertion_type", assertionType, "client_assertion", valid)}); rec.Code != http.StatusOK {
		t.Fatalf("the good assertion: %d %s", rec.Code, rec.Body)
	}
	rec = ts.do(request{body: form("grant_type", "client_credentials", "client_assertion_type", assertionType, "client_assertion", valid)})
	if e := decode[errorResponse](t, rec); rec.Code != http.StatusUnauthorized || e.Error != "invalid_client" || !strings.Contains(e.ErrorDescription, "jti") {
		t.Errorf("a replay: %d %+v", rec.Code, e)
	}
	// A JWT's or a client assertion's typ, and aud an array of one value,
	// are accepted.
	for name, a := range map[string]string{
		"typ JWT":                 p.keyed.signHeader(t, good(), map[string]any{"typ": "JWT"}),
		"typ of an assertion":     p.keyed.signHeader(t, good(), map[string]any{"typ": "application/Client-Authentication+JWT"}),
		"aud an array of one URL": edit("aud", []string{issuer + "/token"}),
	} {
		if rec := ts.do(request{body: form("grant_type", "client_credentials", "client_assertion_type", assertionType, "client_assertion", a)}); rec.Code != http.StatusOK {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	// Refused or accepted, no assertion reaches the log.
	logs := ts.logs.String()
	if !strings.Contains(logs, `"msg":"Token request refused"`) || strings.Contains(logs, parts[1]) || strings.Contains(logs, parts[2]) {
		t.Errorf("the log holds an assertion, or no refusal: %.300s", logs)
	}
}

// replaceParam sets name to value in a key-value list ("" removes it).
func replaceParam(kv []string, name, value string) []string {
	out := make([]string, 0, len(kv)+2)
	found := false
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == name {
			found = true
			if value == "" {
				continue
			}
			out = append(out, name, value)
			continue
		}
		out = append(out, kv[i], kv[i+1])
	}
	if !found && value != "" {
		out = append(out, name, value)
	}
	return out
}

// Failed assertions count on the client's throttle as failed secrets do:
// past the limit, even a good assertion from that address is refused
// before it is checked (429), and its jti is not spent.
func TestFailedAssertionsAreThrottled(t *testing.T) {
	ts := newTestServer(t)
	p := ts.addPrograms(t)
	const from = "203.0.113.9:1000"
	post := func(a string) *httptestRecorder {
		return ts.do(request{body: form("grant_type", "client_credentials", "client_assertion_type", assertionType, "client_assertion", a), remote: from})
	}
	for i := range 5 { // newTestServer's PerUserIP.Max
		if rec := post(p.other.sign(t, ts.assertionClaims("keyed"))); rec.Code != http.StatusUnauthorized {
			t.Fatalf("bad assertion %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	good := p.keyed.sign(t, ts.assertionClaims("keyed"))
	if rec := post(good); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("a good assertion past the limit: %d %s, want 429", rec.Code, rec.Body)
	}
	// From another address the same assertion is still unused.
	if rec := ts.do(request{body: form("grant_type", "client_credentials", "client_assertion_type", assertionType, "client_assertion", good),
		remote: "203.0.113.10:1000"}); rec.Code != http.StatusOK {
		t.Fatalf("from another address: %d %s", rec.Code, rec.Body)
	}
}

// A refusal the server is to blame for (it verifies no ServiceAccount
// tokens; the client's registered keys are unusable) is not a failed
// attempt: past the throttle's limit, it is still answered 401, not 429.
// The log says why; the ServiceAccount refusal names the flag that
// enables it.
func TestUncheckableClientIsNotThrottled(t *testing.T) {
	ts := newTestServer(t)
	p := ts.addPrograms(t)
	ts.addClients(t, store.Client{ID: "broken", JWKS: `{"keys":"not a key set"}`, GrantTypes: []string{"client_credentials"}})
	const from = "203.0.113.9:1000"
	for i := range 8 { // past newTestServer's PerUserIP.Max, 5
		for _, id := range []string{"pod", "broken"} {
			rec := ts.do(request{body: form("grant_type", "client_credentials", "client_id", id, "client_assertion_type", assertionType,
				"client_assertion", p.keyed.sign(t, ts.assertionClaims(id))), remote: from})
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("%s, attempt %d: %d %s, want 401", id, i, rec.Code, rec.Body)
			}
		}
	}
	for _, cause := range []string{"--service-account-clients", "the client's registered keys are not usable"} {
		if !strings.Contains(ts.logs.String(), cause) {
			t.Errorf("no refusal logged with the cause %q", cause)
		}
	}
}

// refusingCluster is a ServiceAccountVerifier of a cluster that
// authenticates no token, counting the tokens it is asked about.
type refusingCluster struct{ asked atomic.Int64 }

func (c *refusingCluster) VerifyServiceAccountToken(context.Context, string) (clientauth.ServiceAccountIdentity, error) {
	c.asked.Add(1)
	return clientauth.ServiceAccountIdentity{}, clientauth.ErrInvalidServiceAccountToken
}

// A refused ServiceAccount token says nothing of the client it names:
// one whose account exists, one whose account does not (its record has
// no UID: the cluster is asked all the same), no client at all, or one
// that authenticates otherwise.
func TestServiceAccountRefusalsSayNothingOfTheClient(t *testing.T) {
	cluster := &refusingCluster{}
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.ServiceAccounts = cluster }))
	p := ts.addPrograms(t)
	ts.addClients(t, store.Client{ID: "pod-gone", ServiceAccount: &store.ServiceAccount{Namespace: "apps", Name: "gone"}, GrantTypes: []string{"client_credentials"}})
	claims := jwt.MapClaims{"iss": "https://kubernetes.default.svc", "sub": "system:serviceaccount:apps:worker", "aud": issuer,
		"exp": ts.clock.Now().Add(time.Hour).Unix()}
	token := p.other.sign(t, claims)
	for i, id := range []string{"pod", "pod-gone", "nobody", "keyed", "svc"} {
		rec := ts.do(request{body: form("grant_type", "client_credentials", "client_id", id, "client_assertion_type", assertionType,
			"client_assertion", token), remote: "198.51.100." + strconv.Itoa(i) + ":1"})
		if e := decode[errorResponse](t, rec); rec.Code != http.StatusUnauthorized || e.Error != "invalid_client" || e.ErrorDescription != "client authentication failed" {
			t.Errorf("%s: %d %+v, want 401 invalid_client, client authentication failed", id, rec.Code, e)
		}
	}
	if n := cluster.asked.Load(); n != 2 {
		t.Errorf("the cluster was asked about %d tokens, want 2 (pod's and pod-gone's)", n)
	}
	for _, cause := range []string{clientauth.ErrInvalidServiceAccountToken.Error(), "no such client",
		"a ServiceAccount token for a private_key_jwt client", "the client does not authenticate with client assertions"} {
		if !strings.Contains(ts.logs.String(), cause) {
			t.Errorf("no refusal logged with the cause %q", cause)
		}
	}
}

// private_key_jwt authenticates the client at /introspect and /revoke
// too, with aud the issuer or that endpoint's URL.
func TestClientAssertionAtRevokeAndIntrospect(t *testing.T) {
	ts := newTestServer(t)
	p := ts.addPrograms(t)
	auth := func(aud string) []string {
		c := ts.assertionClaims("keyed")
		c["aud"] = aud
		return []string{"client_assertion_type", assertionType, "client_assertion", p.keyed.sign(t, c)}
	}
	rec := ts.post("/token", nil, append([]string{"grant_type", "client_credentials"}, auth(issuer)...)...)
	if rec.Code != http.StatusOK {
		t.Fatalf("token: %d %s", rec.Code, rec.Body)
	}
	tok := decode[tokenResponse](t, rec).AccessToken
	ts.caughtUp()
	rec = ts.post("/introspect", nil, append([]string{"token", tok}, auth(issuer+"/introspect")...)...)
	m := decode[map[string]any](t, rec)
	if rec.Code != http.StatusOK || !active(m) || m["sub"] != "client:keyed" || m["client_id"] != "keyed" || m["scope"] != "read write" {
		t.Fatalf("introspect: %d %v", rec.Code, m)
	}
	if _, ok := m["username"]; ok {
		t.Errorf("a client's token has a username: %v", m)
	}
	if rec := ts.post("/revoke", nil, append([]string{"token", tok}, auth(issuer+"/revoke")...)...); rec.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	ts.caughtUp()
	if rec := ts.do(request{method: http.MethodGet, path: "/verify", headers: map[string]string{"Authorization": "Bearer " + tok}}); rec.Code != http.StatusUnauthorized {
		t.Errorf("verify after revocation: %d", rec.Code)
	}
}

// A client's own token is revoked with its client: a later NotBefore
// (a new credential) or the record's deletion makes /verify and
// /introspect refuse it, through the revocation mirror; the client itself
// revokes one at /revoke (RFC 7009). /userinfo and /tokenreview never
// take one: it names no user.
func TestClientTokenRevokedWithItsClient(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) {
		c.TokenReviewAudiences, c.TokenReviewPrefix = []string{billingAudience}, "authstack:"
	}))
	ts.addPrograms(t)
	svc := map[string]string{"Authorization": basic("svc", svcSecret)}
	mint := func() string {
		t.Helper()
		rec := ts.post("/token", svc, "grant_type", "client_credentials")
		if rec.Code != http.StatusOK {
			t.Fatalf("token: %d %s", rec.Code, rec.Body)
		}
		return decode[tokenResponse](t, rec).AccessToken
	}
	verify := func(tok string) int {
		ts.caughtUp()
		return ts.do(request{method: http.MethodGet, path: "/verify", headers: map[string]string{"Authorization": "Bearer " + tok}}).Code
	}
	introspect := func(tok string) map[string]any {
		t.Helper()
		ts.caughtUp()
		rec := ts.post("/introspect", svc, "token", tok)
		if rec.Code != http.StatusOK {
			t.Fatalf("introspect: %d %s", rec.Code, rec.Body)
		}
		return decode[map[string]any](t, rec)
	}

	tok := mint()
	if code := verify(tok); code != http.StatusOK {
		t.Fatalf("verify: %d", code)
	}
	if m := introspect(tok); !active(m) || m["sub"] != "client:svc" || m["username"] != nil {
		t.Fatalf("introspect: %v", m)
	}
	rec := ts.userinfo("Bearer " + tok)
	if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("userinfo of a client's token: %d %q, want 401 invalid_token", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}

	// A new credential moves the client's NotBefore.
	c, err := ts.store.GetClient(t.Context(), "svc")
	if err != nil {
		t.Fatal(err)
	}
	c.NotBefore = ts.clock.Now()
	if err := ts.store.PutClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if code := verify(tok); code != http.StatusUnauthorized {
		t.Errorf("verify after the client's NotBefore moved: %d", code)
	}
	if m := introspect(tok); active(m) {
		t.Errorf("introspect after the client's NotBefore moved: %v", m)
	}

	// The client gets a new token, and revokes it itself.
	tok = mint()
	if code := verify(tok); code != http.StatusOK {
		t.Fatalf("verify of the new token: %d", code)
	}
	if rec := ts.post("/revoke", svc, "token", tok); rec.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
	}
	if code := verify(tok); code != http.StatusUnauthorized {
		t.Errorf("verify after /revoke: %d", code)
	}

	// A client's token for Kubernetes' audience authenticates nobody.
	c.Audiences = []string{billingAudience}
	if err := ts.store.PutClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	ts.caughtUp()
	if st := ts.review(t, v1, mint()); st.Authenticated || st.Error == "" {
		t.Errorf("TokenReview of a client's token: %+v, want unauthenticated", st)
	}

	// Deleted, the client's tokens die with it.
	tok = mint()
	ts.caughtUp()
	if m := introspect(tok); !active(m) {
		t.Fatalf("introspect before the deletion: %v", m)
	}
	if _, err := ts.store.DeleteClientFrom(t.Context(), "svc", c.Source); err != nil {
		t.Fatal(err)
	}
	ts.caughtUp()
	rec = ts.post("/introspect", billingAuth, "token", tok)
	if m := decode[map[string]any](t, rec); rec.Code != http.StatusOK || active(m) {
		t.Errorf("introspect after the client's deletion: %d %v", rec.Code, m)
	}
}

// An assertion is accepted once by all replicas: two servers share one
// Redis, the first use on a succeeds, the same assertion on b is a replay,
// and so is another assertion reusing its jti. Redis holds the jti until
// the assertion's exp (plus the leeway), and no longer.
func TestReplayedAssertionRefusedOnAnotherReplica(t *testing.T) {
	rs := redistest.Start(t)
	a := newTestServer(t, withStore(newRedisStore(t, rs)))
	b := newTestServer(t, withStore(newRedisStore(t, rs)))
	p := a.addPrograms(t)
	b.caughtUp()
	claims := a.assertionClaims("keyed")
	post := func(ts *testServer, assertion string) *httptestRecorder {
		return ts.do(request{body: form("grant_type", "client_credentials", "client_assertion_type", assertionType, "client_assertion", assertion)})
	}
	first := p.keyed.sign(t, claims)
	if rec := post(a, first); rec.Code != http.StatusOK {
		t.Fatalf("first use on a: %d %s", rec.Code, rec.Body)
	}
	claims["iat"] = claims["iat"].(int64) + 1 // another JWT, the same jti
	for name, assertion := range map[string]string{"the same assertion": first, "its jti again": p.keyed.sign(t, claims)} {
		rec := post(b, assertion)
		if e := decode[errorResponse](t, rec); rec.Code != http.StatusUnauthorized || e.Error != "invalid_client" {
			t.Errorf("%s on b: %d %s, want 401 invalid_client", name, rec.Code, rec.Body)
		}
	}
	keys, err := rs.Client().Keys(t.Context(), "it:{jti:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := "it:{jti:keyed:" + claims["jti"].(string) + "}"; len(keys) != 1 || keys[0] != want {
		t.Fatalf("jti keys %v, want [%s]", keys, want)
	}
	ttl, err := rs.Client().PTTL(t.Context(), keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	// exp is a minute after the fake clock's now; the leeway is the
	// validators' default.
	if ttl <= 0 || ttl > time.Minute+accesstoken.DefaultLeeway+time.Second {
		t.Errorf("jti key TTL %v, want the assertion's remaining lifetime plus the leeway", ttl)
	}
}
