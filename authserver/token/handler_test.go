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

package token

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authstack/authstack/authserver/clientauth"
	"github.com/authstack/authstack/authserver/clientip"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// A full hash pool, or a server without signing keys yet, refuses a
// confidential client's password request before the client's secret is
// checked, so neither writes a throttle counter.
func TestUnavailableIsRefusedBeforeClientAuthentication(t *testing.T) {
	g, _ := newGrant(t)
	st := g.Logins.(store.Store)
	if err := st.PutClient(context.Background(), store.Client{ID: "billing", SecretHash: store.HashClientSecret("s3cret")}); err != nil {
		t.Fatal(err)
	}
	spy := &countingCounters{Counters: g.Limiter.Counters}
	ips, err := clientip.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{
		Clients: &clientauth.Authenticator{Clients: st, Limiter: &throttle.Limiter{Counters: spy, PerUserIP: g.Limiter.PerUserIP, PerIP: g.Limiter.PerIP}, Metrics: g.Metrics},
		Grants:  map[string]Grant{GrantPassword: g},
		Keys:    signer.Static(nil), // still waiting for the key Secret
		IPs:     ips, Metrics: g.Metrics, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	post := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader("grant_type=password&username=alice&password=alice-pw"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.SetBasicAuth("billing", "s3cret")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	rec := post()
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" ||
		!strings.Contains(rec.Body.String(), `"error":"temporarily_unavailable"`) {
		t.Fatalf("no signing keys: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if spy.adds != 0 {
		t.Fatalf("a request refused for missing keys wrote %d throttle counters", spy.adds)
	}

	h.Keys = signer.Static(authtest.KeySet(t, signer.AlgES256))
	if rec := post(); rec.Code != http.StatusOK {
		t.Fatalf("idle server: %d %s", rec.Code, rec.Body)
	}
	spy.adds = 0

	release := fillPool(g)
	defer release()
	rec = post()
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("full pool: %d %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if spy.adds != 0 {
		t.Fatalf("a request refused for overload wrote %d throttle counters", spy.adds)
	}
}

// namedGrant answers a named client's request, admitting the client only
// when admit is set.
type namedGrant struct{ admit bool }

func (g *namedGrant) Handle(context.Context, *Request) (*Response, error) {
	return &Response{AccessToken: "authenticated first"}, nil
}

func (g *namedGrant) HandleNamed(ctx context.Context, req *Request, c *PendingClient) (*Response, error) {
	if g.admit {
		if err := c.Authenticate(ctx, req); err != nil {
			return nil, err
		}
	}
	return &Response{AccessToken: "for " + req.Client.ID}, nil
}

// A client that names itself goes to a NamedClientGrant unauthenticated;
// a grant that answers without having it admitted is refused (500), not
// trusted to have judged the client itself.
func TestNamedClientGrantMustAdmitItsClient(t *testing.T) {
	ips, err := clientip.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := &namedGrant{}
	st := memory.New()
	h := &Handler{
		Clients: &clientauth.Authenticator{Clients: st, DefaultClient: store.Client{ID: "default"}},
		Grants:  map[string]Grant{GrantRefreshToken: g},
		Keys:    signer.Static(authtest.KeySet(t, signer.AlgES256)),
		IPs:     ips, Metrics: metrics.New(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	post := func(body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	if rec := post("grant_type=refresh_token"); rec.Code != http.StatusInternalServerError {
		t.Fatalf("a grant that did not admit its client: %d %s", rec.Code, rec.Body)
	}
	g.admit = true
	if rec := post("grant_type=refresh_token"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"for default"`) {
		t.Fatalf("the default client admitted: %d %s", rec.Code, rec.Body)
	}
	if rec := post("grant_type=refresh_token&client_id=nope"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("an unknown client: %d %s", rec.Code, rec.Body)
	}
}
