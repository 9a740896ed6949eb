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

package cmd

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-logr/logr"

	"github.com/authstack/authstack/internal/testing/authtest"
)

// `authstack dev --tls-cert-file --tls-key-file` serves the API over HTTPS
// with an https issuer. (internal/servingcert's tests rotate the pair.)
func TestDevServesHTTPSWithTheTLSFlags(t *testing.T) {
	first := authtest.TLSPair(t, t.TempDir())
	issuer, _ := runDev(t, "-f", "../config/samples/", "--tls-cert-file", first.CertFile, "--tls-key-file", first.KeyFile)
	if !strings.HasPrefix(issuer, "https://127.0.0.1:") {
		t.Fatalf("issuer %q, want https://127.0.0.1:port", issuer)
	}

	roots := x509.NewCertPool()
	roots.AddCert(first.Cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	resp, err := client.PostForm(issuer+"/token", url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"builder-bob-77"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token over https: %d", resp.StatusCode)
	}

}

// One of the two TLS flags without the other is refused at start, naming
// both.
func TestTLSFlagsGoTogether(t *testing.T) {
	dir := t.TempDir()
	pair := authtest.TLSPair(t, dir)
	for _, cmd := range [][]string{
		{"server", "--redis-url", "redis://127.0.0.1:1", "--signing-keys", dir, "--issuer", "https://auth.example"},
		{"dev", "-f", "../config/samples/"},
	} {
		for _, flag := range [][]string{{"--tls-cert-file", pair.CertFile}, {"--tls-key-file", pair.KeyFile}} {
			t.Run(cmd[0]+flag[0], func(t *testing.T) {
				root := NewRoot()
				root.SetOut(io.Discard)
				root.SetArgs(append(append([]string{}, cmd...), flag...))
				err := root.Execute()
				if err == nil || !strings.Contains(err.Error(), "--tls-cert-file") || !strings.Contains(err.Error(), "--tls-key-file") {
					t.Fatalf("err = %v, want one naming --tls-cert-file and --tls-key-file", err)
				}
			})
		}
	}
}

// certwatcher's errors (a pair that does not load, the old one serving on)
// reach the log as warnings, also at --log-level=warn, and its info does
// not.
func TestCertwatcherErrorsAreWarnings(t *testing.T) {
	var buf authtest.SyncBuffer
	log := logr.FromSlogHandler(atMostWarn{slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})}).WithName("certwatcher")
	log.Error(errors.New("tls: private key does not match public key"), "failed read certificate")
	log.Info("Updated current TLS certificate")
	if got := buf.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, `"level":"WARN","msg":"failed read certificate"`) {
		t.Fatalf("log:\n%s", got)
	}
}
