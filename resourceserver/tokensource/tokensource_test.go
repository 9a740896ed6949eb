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

package tokensource_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver/tokensource"
)

// These tests watch what the source sends, on a plain net/http server of
// their own that answers like a token endpoint: each answer expires at
// once, so every Token call through the reusing source is a new request.
// authstack_test.go drives the real token server.

// request is what the endpoint received.
type request struct {
	form          url.Values
	authorization string
}

// endpoint is a token endpoint that records its requests and answers a
// token (or, with refuse set, an RFC 6749 §5.2 error).
type endpoint struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []request
	refuse string
}

func newEndpoint(t *testing.T) *endpoint {
	t.Helper()
	e := &endpoint{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/token" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		n := len(e.got)
		e.got = append(e.got, request{form: r.PostForm, authorization: r.Header.Get("Authorization")})
		refuse := e.refuse
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if refuse != "" {
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": refuse, "error_description": "client authentication failed"})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("at-%d", n), "token_type": "Bearer", "expires_in": 1})
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) config() tokensource.Config {
	return tokensource.Config{TokenURL: e.srv.URL + "/token", ClientID: "billing", Scopes: []string{"read", "write"}}
}

func (e *endpoint) requests() []request {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]request(nil), e.got...)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// fetch gets n tokens from src, each a new request.
func fetch(t *testing.T, src oauth2.TokenSource, n int) {
	t.Helper()
	for i := range n {
		tok, err := src.Token()
		must(t, err)
		if tok.AccessToken != fmt.Sprintf("at-%d", i) || tok.TokenType != "Bearer" {
			t.Fatalf("token %d: %+v", i, tok)
		}
	}
}

// checkGrant checks the form of a client_credentials request.
func checkGrant(t *testing.T, r request) {
	t.Helper()
	if r.form.Get("grant_type") != "client_credentials" || r.form.Get("scope") != "read write" {
		t.Errorf("form %v: want grant_type client_credentials, scope \"read write\"", r.form)
	}
}

func TestSecretInHTTPBasic(t *testing.T) {
	e := newEndpoint(t)
	const secret = "s3cr+t%/:x" // form-encoded in Basic, as RFC 6749 §2.3.1 says
	src, err := e.config().Secret(context.Background(), secret)
	must(t, err)
	fetch(t, src, 2)
	for _, r := range e.requests() {
		checkGrant(t, r)
		req := http.Request{Header: http.Header{"Authorization": {r.authorization}}}
		id, pw, ok := req.BasicAuth()
		if !ok {
			t.Fatalf("Authorization %q is not Basic", r.authorization)
		}
		if uid, _ := url.QueryUnescape(id); uid != "billing" {
			t.Errorf("Basic user %q", id)
		}
		if upw, _ := url.QueryUnescape(pw); upw != secret {
			t.Errorf("Basic password %q, want %q form-encoded", pw, secret)
		}
		if r.form.Has("client_secret") || r.form.Has("client_assertion") {
			t.Errorf("form %v carries a credential", r.form)
		}
	}
}

// Each token request carries a new assertion (RFC 7523 §3): iss and sub
// the client, aud the token endpoint, a fresh jti, exp a minute after
// iat, kid the key's thumbprint, signed with the key type's algorithm.
func TestPrivateKeyAssertions(t *testing.T) {
	for _, alg := range []string{signer.AlgES256, signer.AlgES384, signer.AlgEdDSA, signer.AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			e := newEndpoint(t)
			key := authtest.Key(t, alg)
			clk := clocktesting.NewFakePassiveClock(time.Unix(1_900_000_000, 0))
			src, err := e.config().PrivateKey(context.Background(), key.Private, tokensource.KeyOptions{Clock: clk})
			must(t, err)
			fetch(t, src, 3)
			jtis := map[string]bool{}
			for _, r := range e.requests() {
				checkGrant(t, r)
				c := checkAssertion(t, r, key.Public, alg, key.ID)
				if iss, _ := c.GetIssuer(); iss != "billing" {
					t.Errorf("iss %q", iss)
				}
				if sub, _ := c.GetSubject(); sub != "billing" {
					t.Errorf("sub %q", sub)
				}
				if aud, _ := c.GetAudience(); len(aud) != 1 || aud[0] != e.srv.URL+"/token" {
					t.Errorf("aud %v, want the token endpoint", aud)
				}
				iat, _ := c.GetIssuedAt()
				exp, _ := c.GetExpirationTime()
				if iat == nil || exp == nil || !iat.Equal(clk.Now()) || exp.Sub(iat.Time) != tokensource.AssertionLifetime {
					t.Errorf("iat %v exp %v, want now and a minute later", iat, exp)
				}
				jti, _ := c["jti"].(string)
				if len(jti) < 16 || jtis[jti] {
					t.Errorf("jti %q repeated or short", jti)
				}
				jtis[jti] = true
			}
		})
	}
}

// checkAssertion checks the assertion form of r, verifies its JWT with pub
// and alg, and returns its claims.
func checkAssertion(t *testing.T, r request, pub crypto.PublicKey, alg, kid string) jwt.MapClaims {
	t.Helper()
	if r.authorization != "" || r.form.Has("client_secret") {
		t.Errorf("a secret beside the assertion: Authorization %q, form %v", r.authorization, r.form)
	}
	if r.form.Get("client_id") != "billing" || r.form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		t.Errorf("form %v: want client_id and the jwt-bearer assertion type", r.form)
	}
	c := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(r.form.Get("client_assertion"), c, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{alg}), jwt.WithoutClaimsValidation())
	if err != nil {
		t.Fatalf("assertion: %v", err)
	}
	if tok.Header["kid"] != kid {
		t.Errorf("kid %v, want %s", tok.Header["kid"], kid)
	}
	return c
}

func TestPrivateKeyOptions(t *testing.T) {
	e := newEndpoint(t)
	key := authtest.Key(t, signer.AlgES256)
	src, err := e.config().PrivateKey(context.Background(), key.Private, tokensource.KeyOptions{KeyID: "k-2026", Audience: "https://auth.example.test"})
	must(t, err)
	fetch(t, src, 1)
	c := checkAssertion(t, e.requests()[0], key.Public, signer.AlgES256, "k-2026")
	if aud, _ := c.GetAudience(); len(aud) != 1 || aud[0] != "https://auth.example.test" {
		t.Errorf("aud %v", aud)
	}
	// Real time without a clock.
	if exp, _ := c.GetExpirationTime(); exp == nil || time.Until(exp.Time) > tokensource.AssertionLifetime || time.Until(exp.Time) < 0 {
		t.Errorf("exp %v, want within a minute", exp)
	}
}

// The kubelet rotates the projected token in place: each request reads
// the file again.
func TestServiceAccountTokenIsReadForEachRequest(t *testing.T) {
	e := newEndpoint(t)
	path := filepath.Join(t.TempDir(), "authstack-token")
	must(t, os.WriteFile(path, []byte("eyJhbGciOi.first.sig\n"), 0o600))
	src, err := e.config().ServiceAccountToken(context.Background(), path)
	must(t, err)
	fetch(t, src, 1)
	// As the kubelet writes it: a new file swapped in.
	next := filepath.Join(filepath.Dir(path), ".next")
	must(t, os.WriteFile(next, []byte("eyJhbGciOi.second.sig"), 0o600))
	must(t, os.Rename(next, path))
	tok, err := src.Token()
	must(t, err)
	if tok.AccessToken != "at-1" {
		t.Fatalf("second token %+v: no new request", tok)
	}
	got := e.requests()
	for i, want := range []string{"eyJhbGciOi.first.sig", "eyJhbGciOi.second.sig"} {
		checkGrant(t, got[i])
		if got[i].form.Get("client_assertion") != want || got[i].form.Get("client_id") != "billing" ||
			got[i].form.Get("client_assertion_type") != tokensource.AssertionType || got[i].authorization != "" {
			t.Errorf("request %d: form %v, Authorization %q; want client_id and assertion %q", i, got[i].form, got[i].authorization, want)
		}
	}
}

// A missing, empty or oversized token file fails the fetch, before any
// request, without quoting the file.
func TestServiceAccountTokenFileErrors(t *testing.T) {
	e := newEndpoint(t)
	dir := t.TempDir()
	huge := "eyJ" + strings.Repeat("A", tokensource.MaxServiceAccountTokenBytes)
	must(t, os.WriteFile(filepath.Join(dir, "empty"), []byte(" \n"), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "huge"), []byte(huge), 0o600))
	for _, name := range []string{"missing", "empty", "huge"} {
		src, err := e.config().ServiceAccountToken(context.Background(), filepath.Join(dir, name))
		must(t, err)
		_, err = src.Token()
		if err == nil || strings.Contains(err.Error(), "AAAA") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := len(e.requests()); n != 0 {
		t.Errorf("%d token requests without a token", n)
	}
	src, err := e.config().ServiceAccountToken(context.Background(), "")
	must(t, err)
	if _, err := src.Token(); err == nil || !strings.Contains(err.Error(), tokensource.DefaultServiceAccountTokenPath) {
		t.Errorf("default path: %v, want %s named", err, tokensource.DefaultServiceAccountTokenPath)
	}
}

// The token server's refusal is x/oauth2's RetrieveError, with the RFC 6749
// §5.2 code.
func TestRefusalIsARetrieveError(t *testing.T) {
	e := newEndpoint(t)
	e.refuse = "invalid_client"
	src, err := e.config().Secret(context.Background(), "wrong")
	must(t, err)
	_, err = src.Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
		t.Fatalf("Token: %v; want a RetrieveError invalid_client", err)
	}
}

// oauth2.NewClient sends the source's token, and fetches a new one once it
// expires.
func TestNewClientSendsTheToken(t *testing.T) {
	e := newEndpoint(t)
	var seen []string
	api := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
	}))
	defer api.Close()
	src, err := e.config().Secret(context.Background(), "s")
	must(t, err)
	c := oauth2.NewClient(context.Background(), src)
	for range 2 {
		resp, err := c.Get(api.URL)
		must(t, err)
		resp.Body.Close()
	}
	if len(seen) != 2 || seen[0] != "Bearer at-0" || seen[1] != "Bearer at-1" {
		t.Errorf("API saw %v", seen)
	}
}

func TestConfigChecks(t *testing.T) {
	ctx := context.Background()
	ok := tokensource.Config{TokenURL: "https://auth.example.test/token", ClientID: "billing"}
	for _, c := range []tokensource.Config{
		{TokenURL: "", ClientID: "billing"}, {TokenURL: "auth.example.test/token", ClientID: "billing"},
		{TokenURL: "ftp://auth.example.test/token", ClientID: "billing"}, {TokenURL: ok.TokenURL},
		// Plain http beyond the loopback would send the credential readable.
		{TokenURL: "http://auth.example.test/token", ClientID: "billing"},
		{TokenURL: "http://10.0.0.1:8080/token", ClientID: "billing"},
	} {
		if _, err := c.Secret(ctx, "s"); err == nil {
			t.Errorf("%+v accepted", c)
		}
		if _, err := c.ServiceAccountToken(ctx, ""); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	for _, c := range []tokensource.Config{
		{TokenURL: "http://127.0.0.1:8080/token", ClientID: "billing"},
		{TokenURL: "http://[::1]:8080/token", ClientID: "billing"},
		{TokenURL: "http://localhost:8080/token", ClientID: "billing"},
		{TokenURL: "http://authstack.auth.svc:8080/token", ClientID: "billing", AllowHTTP: true},
	} {
		if _, err := c.Secret(ctx, "s"); err != nil {
			t.Errorf("%+v refused: %v", c, err)
		}
	}
	if _, err := ok.Secret(ctx, ""); err == nil {
		t.Error("empty secret accepted")
	}
	if _, err := ok.PrivateKey(ctx, nil, tokensource.KeyOptions{}); err == nil {
		t.Error("no key accepted")
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	must(t, err)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	must(t, err)
	for _, k := range []crypto.Signer{weak, p224} {
		if _, err := ok.PrivateKey(ctx, k, tokensource.KeyOptions{}); err == nil {
			t.Errorf("%T key accepted", k)
		}
	}
}
