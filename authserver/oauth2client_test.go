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
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// Black-box tests: the real golang.org/x/oauth2 client against the server
// over HTTP.
func newHTTPServer(t *testing.T, ts *testServer) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(ts.handler)
	t.Cleanup(hs.Close)
	return hs
}

func TestOAuth2ClientPasswordCredentials(t *testing.T) {
	ts := newTestServer(t)
	hs := newHTTPServer(t, ts)
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, hs.Client())

	for name, cfg := range map[string]*oauth2.Config{
		"confidential, basic": {ClientID: "billing", ClientSecret: billingSecret, Endpoint: oauth2.Endpoint{TokenURL: hs.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader}, Scopes: []string{"read"}},
		"confidential, post":  {ClientID: "billing", ClientSecret: billingSecret, Endpoint: oauth2.Endpoint{TokenURL: hs.URL + "/token", AuthStyle: oauth2.AuthStyleInParams}},
		"public":              {ClientID: "cli", Endpoint: oauth2.Endpoint{TokenURL: hs.URL + "/token", AuthStyle: oauth2.AuthStyleInParams}},
		"auto-detected style": {ClientID: "billing", ClientSecret: billingSecret, Endpoint: oauth2.Endpoint{TokenURL: hs.URL + "/token"}},
	} {
		t.Run(name, func(t *testing.T) {
			tok, err := cfg.PasswordCredentialsToken(ctx, "alice", alicePassword)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.Expiry.IsZero() {
				t.Fatalf("token %+v", tok)
			}
			// Use it on /userinfo through the library's transport. billing's
			// tokens are for billing's audience, so userinfo refuses them
			// (RFC 9068 §4); the public client's carry the default audience.
			client := cfg.Client(ctx, tok)
			resp, err := client.Get(hs.URL + "/userinfo")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			want := http.StatusOK
			if cfg.ClientID == "billing" {
				want = http.StatusUnauthorized
			}
			if resp.StatusCode != want {
				t.Fatalf("userinfo: %d, want %d", resp.StatusCode, want)
			}
		})
	}

	cfg := &oauth2.Config{ClientID: "cli", Endpoint: oauth2.Endpoint{TokenURL: hs.URL + "/token", AuthStyle: oauth2.AuthStyleInParams}}
	_, err := cfg.PasswordCredentialsToken(ctx, "alice", "wrong")
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong password: %v", err)
	}
	cfg = &oauth2.Config{ClientID: "billing", ClientSecret: "wrong", Endpoint: oauth2.Endpoint{TokenURL: hs.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader}}
	_, err = cfg.PasswordCredentialsToken(ctx, "alice", alicePassword)
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong client secret: %v", err)
	}
}

// The HTTP server refuses a megabyte of headers before any handler runs.
func TestHugeBearerHeaderRefusedByTheHTTPServer(t *testing.T) {
	ts := newTestServer(t)
	hs := httptest.NewUnstartedServer(ts.handler)
	hs.Config.MaxHeaderBytes = 64 << 10 // as authserver.Run configures it
	hs.Start()
	t.Cleanup(hs.Close)
	req, _ := http.NewRequest(http.MethodGet, hs.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("A", 1<<20))
	resp, err := hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
}
