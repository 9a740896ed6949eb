//go:build linux

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
	"testing"
)

// BenchmarkVerify measures GET /verify of one token, repeated, through the
// server's whole handler (its middleware chain, the mux, the verified-token
// cache, the revocation mirror and the answer's headers), in process: what
// the server adds to net/http's own floor. Run with -cpuprofile or
// -memprofile to see where it goes.
func BenchmarkVerify(b *testing.B) {
	ts, req := repeatedVerify(b)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		ts.handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("verify: %d %s", w.Code, w.Body)
		}
	}
}
