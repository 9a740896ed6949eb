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
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/redistest"
)

// BenchmarkClientCredentials measures the server's work for one
// client_credentials token, in process, on the memory store and on Redis:
// with a client secret (HTTP Basic) and with a private_key_jwt assertion
// (signed outside the timed loop, each with a fresh jti). The difference
// is what the assertion costs: one ES256 verification, the jti's SET NX
// and the parsing. Run with -cpuprofile to see where it goes (the profile
// includes the assertions' signing, outside ServeHTTP).
func BenchmarkClientCredentials(b *testing.B) {
	stores := map[string]func() store.Store{
		"memory": func() store.Store { return memory.New() },
		"redis":  func() store.Store { return newRedisStore(b, redistest.Start(b)) },
	}
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			ts := newTestServer(b, withStore(stores[name]()))
			p := ts.addPrograms(b)
			b.Run("client_secret_basic", func(b *testing.B) {
				ts.benchToken(b, []string{form("grant_type", "client_credentials", "scope", "read")}, basic("svc", svcSecret))
			})
			b.Run("private_key_jwt", func(b *testing.B) {
				bodies := make([]string, b.N) // one assertion per request: a jti is accepted once
				for i := range bodies {
					bodies[i] = form("grant_type", "client_credentials", "scope", "read", "client_id", "keyed",
						"client_assertion_type", assertionType, "client_assertion", p.keyed.sign(b, ts.assertionClaims("keyed")))
				}
				ts.benchToken(b, bodies, "")
			})
		})
	}
}

// benchToken posts b.N token requests, the bodies in turn, each with the
// Authorization header auth (none if empty), and fails on any but a 200.
func (ts *testServer) benchToken(b *testing.B, bodies []string, auth string) {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(bodies[i%len(bodies)]))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		ts.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("token: %d %s", rec.Code, rec.Body)
		}
	}
}
