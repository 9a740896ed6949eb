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

// These tests drive the real token server's client_credentials grant and
// private_key_jwt, and call an API guarded by the SDK's middleware with the
// tokens. The ServiceAccount token source is driven against a real
// kube-apiserver by test/e2e's TestProgramWithoutSecret.

package tokensource_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"golang.org/x/oauth2"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/tokensource"
)

const apiAudience = "https://api.example.test"

// authstack is a token server (memory store) over TLS, and an API behind
// the SDK's middleware that answers the sub and client_id of its token.
type authstack struct {
	issuer string
	ctx    context.Context // carries the TLS client for x/oauth2
	api    *httptest.Server
}

func newAuthstack(t *testing.T, clients ...store.Client) *authstack {
	t.Helper()
	discard := slog.New(slog.DiscardHandler)
	keys := signer.Static(authtest.KeySet(t, signer.AlgES256))
	st := memory.New()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, c := range clients {
		must(t, st.PutClient(ctx, c))
	}
	var h http.Handler
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	as, err := authserver.New(authserver.Config{
		Issuer: srv.URL, Store: st, Keys: keys, DefaultAudience: []string{apiAudience},
		HashParams: authtest.FastParams, Logger: discard,
	})
	must(t, err)
	as.Start(ctx)
	h = as.Handler()

	m, err := resourceserver.New(resourceserver.Options{Issuer: srv.URL, Audiences: []string{apiAudience}, Keys: keys, Logger: discard})
	must(t, err)
	t.Cleanup(m.Close)
	api := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := resourceserver.ClaimsFromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]string{"sub": c.Subject, "client_id": c.ClientID})
	})))
	t.Cleanup(api.Close)
	return &authstack{issuer: srv.URL, ctx: context.WithValue(ctx, oauth2.HTTPClient, srv.Client()), api: api}
}

func (a *authstack) config(id string) tokensource.Config {
	return tokensource.Config{TokenURL: a.issuer + "/token", ClientID: id, Scopes: []string{"read"}}
}

// call calls the API with src's token, and checks the API saw the client
// id as itself.
func (a *authstack) call(t *testing.T, src oauth2.TokenSource, id string) {
	t.Helper()
	resp, err := oauth2.NewClient(a.ctx, src).Get(a.api.URL)
	must(t, err)
	defer resp.Body.Close()
	var got map[string]string
	must(t, json.NewDecoder(resp.Body).Decode(&got))
	if resp.StatusCode != http.StatusOK || got["sub"] != store.ClientSubject(id) || got["client_id"] != id {
		t.Fatalf("API: %d %v; want sub %s", resp.StatusCode, got, store.ClientSubject(id))
	}
}

// refused checks src's token request is refused with code.
func refused(t *testing.T, src oauth2.TokenSource, code string) {
	t.Helper()
	_, err := src.Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != code {
		t.Fatalf("Token: %v; want %s", err, code)
	}
}

func TestAuthstackClientSecret(t *testing.T) {
	a := newAuthstack(t, store.Client{ID: "billing", SecretHash: store.HashClientSecret("s3cr+t"), GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	src, err := a.config("billing").Secret(a.ctx, "s3cr+t")
	must(t, err)
	tok, err := src.Token()
	must(t, err)
	if tok.RefreshToken != "" {
		t.Error("a refresh token for client_credentials (RFC 6749 §4.4.3)")
	}
	a.call(t, src, "billing")
	bad, err := a.config("billing").Secret(a.ctx, "wrong")
	must(t, err)
	refused(t, bad, "invalid_client")
}

func TestAuthstackPrivateKey(t *testing.T) {
	key, other := authtest.Key(t, signer.AlgES256), authtest.Key(t, signer.AlgEdDSA)
	jwks, err := json.Marshal(map[string]any{"keys": []signer.JWK{key.JWK()}})
	must(t, err)
	a := newAuthstack(t, store.Client{ID: "billing", JWKS: string(jwks), GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	src, err := a.config("billing").PrivateKey(a.ctx, key.Private, tokensource.KeyOptions{})
	must(t, err)
	// Each request's assertion is new, so none is refused as a replay.
	for range 3 {
		tok, err := src.Token()
		must(t, err)
		if tok.AccessToken == "" {
			t.Fatal("no access token")
		}
	}
	a.call(t, src, "billing")
	wrong, err := a.config("billing").PrivateKey(a.ctx, other.Private, tokensource.KeyOptions{})
	must(t, err)
	refused(t, wrong, "invalid_client")
}
