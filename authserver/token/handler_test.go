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
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
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
