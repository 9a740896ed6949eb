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
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authstack/authstack/resourceserver/accesstoken"
)

var updateFuzzSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the seed corpus in testdata/fuzz")

// FuzzAuthorizationHeader sends arbitrary Authorization header values
// through the middleware and checks the answer against ParseBearer: a
// request passes only with the one valid token, every refusal carries the
// RFC 6750 challenge and status for its kind, and no answer echoes the
// token.
func FuzzAuthorizationHeader(f *testing.F) {
	iss := newStaticIssuer(f, nil)
	tok := iss.token(f, apiAudience, "read")
	// The static seeds are in testdata/fuzz/FuzzAuthorizationHeader; a
	// valid token cannot be stored (its key is made per run).
	f.Add("Bearer " + tok)
	f.Add("bearer " + tok)
	f.Add("Bearer " + tok + "=")
	f.Add("Bearer " + strings.Replace(tok, ".", "..", 1))
	m := newStaticMiddleware(f, iss)
	h := m.RequireScopes("read")(echoClaims)

	f.Fuzz(func(t *testing.T, header string) {
		req := httptest.NewRequest(http.MethodGet, "/api/thing", nil)
		req.Header["Authorization"] = []string{header}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		raw, perr := accesstoken.ParseBearer(header)
		wa := rec.Header().Get("WWW-Authenticate")
		switch {
		case errors.Is(perr, accesstoken.ErrNoToken):
			if rec.Code != http.StatusUnauthorized || wa != `Bearer realm="authstack"` || rec.Body.Len() != 0 {
				t.Fatalf("no token: %d %q %q", rec.Code, wa, rec.Body)
			}
		case errors.Is(perr, accesstoken.ErrMalformedBearer):
			if rec.Code != http.StatusBadRequest || !strings.Contains(wa, `error="invalid_request"`) {
				t.Fatalf("malformed header: %d %q", rec.Code, wa)
			}
		case raw == tok:
			if rec.Code != http.StatusOK {
				t.Fatalf("the valid token: %d %s", rec.Code, rec.Body)
			}
		default:
			if rec.Code != http.StatusUnauthorized || !strings.HasPrefix(wa, `Bearer realm="authstack", error="invalid_token"`) {
				t.Fatalf("invalid token: %d %q", rec.Code, wa)
			}
		}
		if rec.Code != http.StatusOK {
			if strings.ContainsAny(wa, "\r\n\x00") {
				t.Fatalf("WWW-Authenticate with control characters: %q", wa)
			}
			if len(raw) >= 16 && (strings.Contains(rec.Body.String(), raw) || strings.Contains(wa, raw)) {
				t.Fatal("the answer echoes the token")
			}
		}
	})
}

// headerSeeds are the stored seeds of FuzzAuthorizationHeader.
var headerSeeds = []string{
	"", "Bearer", "Bearer ", "bearer abc", "Bearer a.b.c", "Bearer  abc", "Bearer\tabc", "Basic dXNlcjpwYXNz",
	"Bearer abc def", "Bearer a=b", "Bearer ==", "Bearer é", "DPoP abc",
	"Bearer eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiJhIn0.",
	"Bearer eyJhbGciOiJIUzI1NiIsImtpZCI6IngiLCJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiJhIn0.c2ln",
	"Bearer eyJraWQiOiIifQ.e30.", "Bearer " + strings.Repeat("A", 9000),
}

// TestFuzzSeedCorpus keeps testdata/fuzz/FuzzAuthorizationHeader in step
// with headerSeeds (-update-fuzz-seeds rewrites it).
func TestFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzAuthorizationHeader")
	file := func(s string) string { return fmt.Sprintf("go test fuzz v1\nstring(%q)\n", s) }
	path := func(i int) string { return filepath.Join(dir, fmt.Sprintf("seed%02d", i)) }
	if *updateFuzzSeeds {
		must(t, os.RemoveAll(dir))
		must(t, os.MkdirAll(dir, 0o755))
		for i, s := range headerSeeds {
			must(t, os.WriteFile(path(i), []byte(file(s)), 0o644))
		}
	}
	for i, s := range headerSeeds {
		got, err := os.ReadFile(path(i))
		if err != nil || string(got) != file(s) {
			t.Errorf("%s is not seed %q (%v): run go test ./resourceserver -run TestFuzzSeedCorpus -update-fuzz-seeds", path(i), s, err)
		}
	}
}
