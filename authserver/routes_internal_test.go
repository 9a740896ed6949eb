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

package authserver

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
)

func newRouteTestServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(Config{Issuer: "https://auth.example.test", Store: memory.New(), Keys: signer.Static(authtest.KeySet(t, signer.AlgES256))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The route table labels every route as the metrics always have (the
// label values are documented and dashboards depend on them), and a path
// no route serves as "other".
func TestRouteLabels(t *testing.T) {
	s := newRouteTestServer(t)
	labels := map[string]bool{}
	for _, rt := range s.routes.routes {
		labels[rt.label()] = true
	}
	want := []string{
		"/token", "/userinfo", "/revoke", "/introspect", "/verify", "/healthz", "/readyz",
		"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration", "/.well-known/jwks.json",
	}
	if got := slices.Sorted(maps.Keys(labels)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("route labels %q, want %q", got, want)
	}
	for path, want := range map[string]string{
		"/token": "/token", "/verify": "/verify", "/verify/": "/verify", "/verify/invoices/2": "/verify",
		"/healthz": "/healthz", "/.well-known/jwks.json": "/.well-known/jwks.json",
		"/": "other", "/nope": "other", "/token/": "other", "/verifyx": "other", "/metrics": "other", "/.well-known/": "other",
	} {
		got := otherLabel
		if rt, ok := s.routes.match(path); ok {
			got = rt.label()
		}
		if got != want {
			t.Errorf("%s is labelled %q, want %q", path, got, want)
		}
	}
}

// The discovery documents advertise the route table's paths.
func TestDiscoveryAdvertisesTheRoutes(t *testing.T) {
	s := newRouteTestServer(t)
	got := advertised(s.routes.routes)
	want := map[string]string{
		"token_endpoint": "/token", "jwks_uri": "/.well-known/jwks.json", "userinfo_endpoint": "/userinfo",
		"revocation_endpoint": "/revoke", "introspection_endpoint": "/introspect",
	}
	if !maps.Equal(got, want) {
		t.Errorf("advertised %v, want %v", got, want)
	}
}

// The status recorder lets http.ResponseController reach the writer.
func TestStatusRecorderUnwraps(t *testing.T) {
	rec := httptest.NewRecorder()
	w := &statusRecorder{ResponseWriter: rec}
	if err := http.NewResponseController(w).Flush(); err != nil {
		t.Fatalf("Flush through the recorder: %v", err)
	}
	if !rec.Flushed {
		t.Error("the underlying writer was not flushed")
	}
}
