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
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/authstack/authstack/authserver"
)

// maxVerifyAllocs bounds the allocations of a granted GET /verify of a
// token the verified-token cache holds, through the server's whole handler
// at the default log level. Five are the ResponseRecorder's (itself, its
// header map and body, its snapshot of the headers at WriteHeader); the
// server's are the header map's storage, the statusRecorder, the
// ServeMux's match, the caller's copy of the claims, the joined groups and
// one array for the four identity headers' values. It was 18 before the
// counters were resolved once and the header values allocated together.
// Counting, not timing: a change that adds an allocation to every request
// fails here.
const maxVerifyAllocs = 12

func TestVerifyCacheHitAllocations(t *testing.T) {
	ts, req := repeatedVerify(t)
	granted := 0
	allocs := testing.AllocsPerRun(100, func() {
		w := httptest.NewRecorder()
		ts.handler.ServeHTTP(w, req)
		if w.Code == http.StatusOK {
			granted++
		}
	})
	if granted != 101 {
		t.Fatalf("%d of 101 requests granted", granted)
	}
	if allocs > maxVerifyAllocs {
		t.Errorf("a cache hit allocates %v times, want at most %d", allocs, maxVerifyAllocs)
	}
}

// repeatedVerify returns a server logging at its default level (the test
// server logs at debug) and a GET /verify of one of its tokens, to send
// again and again.
func repeatedVerify(tb testing.TB) (*testServer, *http.Request) {
	ts := newTestServer(tb, withConfig(func(c *authserver.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}))
	req := httptest.NewRequest(http.MethodGet, "/verify", nil)
	req.Header.Set("Authorization", "Bearer "+ts.mustToken())
	return ts, req
}
