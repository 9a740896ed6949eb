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

package serverproc_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authstack/authstack/internal/testing/redistest"
	"github.com/authstack/authstack/internal/testing/serverproc"
)

// StartTLS runs the real binary with its API on HTTPS, trusted by the
// Server's Client, and its ops listener on plain HTTP.
func TestStartTLS(t *testing.T) {
	redis := redistest.Start(t)
	bin, dir := serverproc.BuildForTest(t)
	keys := filepath.Join(dir, "keys")
	if err := serverproc.WriteKey(keys); err != nil {
		t.Fatal(err)
	}
	s, err := serverproc.StartTLS(bin, dir, "tls", redis.URL(), "https://auth.example", keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	if !strings.HasPrefix(s.URL, "https://127.0.0.1:") || !strings.HasPrefix(s.Ops, "http://") {
		t.Fatalf("URL %s, Ops %s", s.URL, s.Ops)
	}
	resp, err := s.Client().Get(s.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || resp.TLS.PeerCertificates[0].SerialNumber.Cmp(s.TLS.Cert.SerialNumber) != 0 {
		t.Fatalf("jwks over https: %d, want 200 with the test certificate", resp.StatusCode)
	}
}
