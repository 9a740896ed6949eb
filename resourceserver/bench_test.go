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

package resourceserver_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// BenchmarkMiddleware compares, for each signing algorithm, a bare
// accesstoken.Validator.Validate with a request through the middleware
// (header parsing, validation, context, scope check, and a revocation
// check that answers at once) to a handler that writes nothing.
func BenchmarkMiddleware(b *testing.B) {
	for _, alg := range []string{signer.AlgES256, signer.AlgEdDSA, signer.AlgRS256} {
		keys := signer.Static(authtest.KeySet(b, alg))
		is := &accesstoken.Issuer{Keys: keys, Issuer: testIssuer}
		tok, _, err := is.IssueFor(accesstoken.Request{Subject: "alice", ClientID: "cli", Audience: []string{apiAudience}, Scopes: []string{"read", "admin"}, Groups: []string{"g"}, TTL: time.Hour})
		must(b, err)

		b.Run(alg+"/validate", func(b *testing.B) {
			v := &accesstoken.Validator{Keys: keys, Issuer: testIssuer, Audiences: []string{apiAudience}}
			for b.Loop() {
				if _, err := v.Validate(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		for name, wrap := range map[string]func(*resourceserver.Middleware) http.Handler{
			"middleware": func(m *resourceserver.Middleware) http.Handler { return m.Handler(noop) },
			"middleware+scope+revocation": func(m *resourceserver.Middleware) http.Handler {
				return m.Handler(m.RequireScopes("admin")(noop))
			},
		} {
			b.Run(alg+"/"+name, func(b *testing.B) {
				m, err := resourceserver.New(resourceserver.Options{
					Issuer: testIssuer, Audiences: []string{apiAudience}, Keys: keys,
					RequiredScopes: []string{"read"}, Revocation: &fakeChecker{}, Logger: discard,
				})
				must(b, err)
				h := wrap(m)
				req := httptest.NewRequest(http.MethodGet, "/api/thing", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				w := &discardWriter{h: http.Header{}}
				for b.Loop() {
					w.status = 0
					h.ServeHTTP(w, req)
					if w.status != 0 {
						b.Fatalf("status %d", w.status)
					}
				}
			})
		}
	}
}

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
