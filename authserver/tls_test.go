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
	"crypto/tls"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/internal/servingcert"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// With Listeners.TLS the API listener serves HTTPS, HTTP/2 included, TLS
// 1.2 at least; the operations listener stays plain HTTP for the probes.
func TestRunServesHTTPSOnTheAPIListenerOnly(t *testing.T) {
	ts := newTestServer(t)
	pair := authtest.TLSPair(t, t.TempDir())
	tlsConfig, err := servingcert.Config(t.Context(), pair.CertFile, pair.KeyFile, ts.cfg.Logger)
	if err != nil {
		t.Fatal(err)
	}
	api, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ops, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- ts.srv.Run(ctx, authserver.Listeners{API: api, Ops: ops, TLS: tlsConfig}, 5*time.Second)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pair.Pool()}, ForceAttemptHTTP2: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + api.Addr().String() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Proto != "HTTP/2.0" || resp.TLS == nil || resp.TLS.PeerCertificates[0].SerialNumber.Cmp(pair.Cert.SerialNumber) != 0 {
		t.Fatalf("https: %d %s, want 200 over HTTP/2 with the test certificate", resp.StatusCode, resp.Proto)
	}
	// Plain HTTP on the API port gets net/http's 400, not the API.
	if code := status(t, "http://"+api.Addr().String()+"/.well-known/jwks.json"); code != http.StatusBadRequest {
		t.Errorf("plain HTTP to the API listener: %d, want 400", code)
	}
	if code := status(t, "http://"+ops.Addr().String()+"/readyz"); code != http.StatusOK {
		t.Errorf("plain HTTP /readyz on the ops listener: %d, want 200", code)
	}

	for _, tc := range []struct {
		name     string
		max      uint16
		accepted bool
	}{
		{"TLS 1.0", tls.VersionTLS10, false},
		{"TLS 1.1", tls.VersionTLS11, false},
		{"TLS 1.2", tls.VersionTLS12, true},
		{"TLS 1.3", tls.VersionTLS13, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", api.Addr().String(), &tls.Config{RootCAs: pair.Pool(), MinVersion: tls.VersionTLS10, MaxVersion: tc.max})
			if !tc.accepted {
				if err == nil {
					conn.Close()
					t.Fatalf("handshake at most %s succeeded", tc.name)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if v := conn.ConnectionState().Version; v != tc.max {
				t.Fatalf("negotiated %s, want %s", tls.VersionName(v), tc.name)
			}
		})
	}

	// net/http's handshake errors reach the JSON log (at debug), not stderr.
	authtest.Eventually(t, "the refused handshakes in the log", func() bool {
		return strings.Contains(ts.logs.String(), `"level":"DEBUG","msg":"http: TLS handshake error`)
	})
	if lines := ts.logLines("Token server listening"); len(lines) != 1 || lines[0]["tls"] != true {
		t.Errorf("start log %v: want tls true", lines)
	}
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
