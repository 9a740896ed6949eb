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

package kubecredential

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The refusals of RFC 6749 §5.2 and the status codes authstack answers
// with, in words.
func TestExplainToken(t *testing.T) {
	refusal := func(status int, code string, header ...string) error {
		h := http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &oauth2.RetrieveError{Response: &http.Response{StatusCode: status, Header: h}, ErrorCode: code}
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{refusal(400, "invalid_grant"), "the username or password is wrong"},
		{refusal(429, "slow_down", "Retry-After", "42"), "too many failed logins; try again in 42 s"},
		{refusal(429, "slow_down"), "too many failed logins; try again later"},
		{refusal(503, "temporarily_unavailable", "Retry-After", "1"), "the server is busy or unavailable; try again in 1 s"},
		{refusal(401, "invalid_client"), `the server refused the client "kubectl": it does not know it, or it needs a secret (--client-secret-file)`},
		{refusal(400, "unauthorized_client"), `the client "kubectl" may not use this grant: its AuthClient must list the password and refresh_token grant types`},
		{refusal(400, "invalid_request"), "the server refused the login: invalid_request: "},
		{refusal(502, ""), "the server failed (HTTP 502); try again, or tell its operator"},
		{refusal(404, ""), "the token endpoint answered HTTP 404, not an OAuth 2.0 response; is --server right?"},
		{errors.New("dial tcp: refused"), "cannot reach the token endpoint: dial tcp: refused"},
	} {
		if got := explainToken(tc.err, "kubectl").Error(); got != tc.want {
			t.Errorf("%v:\n got %q\nwant %q", tc.err, got, tc.want)
		}
	}
}

func TestExpiryMargin(t *testing.T) {
	for lifetime, want := range map[time.Duration]time.Duration{
		time.Hour:        30 * time.Second,
		5 * time.Minute:  30 * time.Second,
		time.Minute:      15 * time.Second,
		20 * time.Second: 5 * time.Second,
	} {
		if got := expiryMargin(lifetime); got != want {
			t.Errorf("expiryMargin(%v) = %v, want %v", lifetime, got, want)
		}
	}
}

func TestInteractive(t *testing.T) {
	for _, tc := range []struct {
		info    string
		want    bool
		wantErr string
	}{
		{"", true, ""},
		{`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":true}}`, true, ""},
		{`{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}`, false, ""},
		{`{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":true}}`, false, "set the kubeconfig's exec apiVersion to client.authentication.k8s.io/v1"},
		{`not json`, false, "KUBERNETES_EXEC_INFO is not an ExecCredential"},
	} {
		got, err := Interactive(tc.info)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.info, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v", tc.info, got, err)
		}
	}
}

func TestCheckIssuer(t *testing.T) {
	for _, tc := range []struct {
		issuer    string
		allowHTTP bool
		wantErr   string
	}{
		{"https://auth.example.test", false, ""},
		{"https://auth.example.test/auth", false, ""},
		{"http://127.0.0.1:8080", true, ""},
		{"http://127.0.0.1:8080", false, "is plain http: the password and tokens would cross the network readable; use https, or --insecure-allow-http"},
		{"ftp://auth.example.test", true, "the scheme must be https"},
		{"https://auth.example.test/?x=1", false, "no query or fragment"},
		{"auth.example.test", false, "is not an absolute URL"},
	} {
		err := CheckIssuer(tc.issuer, tc.allowHTTP)
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s (allow http %v): err = %v, want %q", tc.issuer, tc.allowHTTP, err, tc.wantErr)
		}
	}
}

// The http client refuses plain http to any endpoint unless allowed, so a
// discovery document cannot send the password over http either.
func TestHTTPClientRefusesPlainHTTP(t *testing.T) {
	hc, err := NewHTTPClient("", false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Discover(t.Context(), hc, "http://127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "is plain http") {
		t.Fatalf("err = %v", err)
	}
}

func TestCertificateAuthorityFile(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewHTTPClient(bad, false); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("err = %v", err)
	}
	if _, err := NewHTTPClient(filepath.Join(t.TempDir(), "missing.pem"), false); err == nil || !strings.Contains(err.Error(), "--certificate-authority") {
		t.Errorf("err = %v", err)
	}
}

func TestDiscoveryURL(t *testing.T) {
	for issuer, want := range map[string]string{
		"https://auth.example.test":       "https://auth.example.test/.well-known/openid-configuration",
		"https://auth.example.test/":      "https://auth.example.test/.well-known/openid-configuration",
		"https://host.example.test/auth":  "https://host.example.test/auth/.well-known/openid-configuration",
		"https://host.example.test/auth/": "https://host.example.test/auth/.well-known/openid-configuration",
	} {
		if got := DiscoveryURL(issuer); got != want {
			t.Errorf("DiscoveryURL(%s) = %s", issuer, got)
		}
	}
}
