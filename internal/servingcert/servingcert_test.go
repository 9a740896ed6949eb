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

package servingcert_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher/metrics"

	"github.com/authstack/authstack/internal/servingcert"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// The watch certwatcher sets up in the background could miss a change made
// right after Config returns; a short re-read interval takes it anyway, so
// no test waits on the 10 s one.
func TestMain(m *testing.M) {
	servingcert.SetPollInterval(50 * time.Millisecond)
	os.Exit(m.Run())
}

// listener serves handshakes with the configuration Config returns for
// certFile and keyFile; roots trusts every certificate the test makes.
type listener struct {
	t     *testing.T
	addr  string
	roots *x509.CertPool
	logs  *authtest.SyncBuffer
}

func listen(t *testing.T, certFile, keyFile string) *listener {
	t.Helper()
	l := &listener{t: t, roots: x509.NewCertPool(), logs: &authtest.SyncBuffer{}}
	cfg, err := servingcert.Config(t.Context(), certFile, keyFile, slog.New(slog.NewJSONHandler(l.logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	l.addr = ln.Addr().String()
	return l
}

// trust adds c to the roots and returns c.
func (l *listener) trust(c *authtest.ServingCert) *authtest.ServingCert {
	l.roots.AddCert(c.Cert)
	return c
}

// serial is the serial number of the certificate a new handshake presents.
func (l *listener) serial() string {
	l.t.Helper()
	conn, err := tls.Dial("tcp", l.addr, &tls.Config{RootCAs: l.roots, MinVersion: tls.VersionTLS12})
	if err != nil {
		l.t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
}

func (l *listener) waitFor(c *authtest.ServingCert) {
	l.t.Helper()
	want := c.Cert.SerialNumber.Text(16)
	authtest.Eventually(l.t, "the certificate with serial "+want, func() bool { return l.serial() == want })
}

func readErrors() float64 { return testutil.ToFloat64(metrics.ReadCertificateErrors) }

// A broken pair was read and rejected: certwatcher counted a failed read
// since before.
func waitRejected(t *testing.T, before float64) {
	t.Helper()
	authtest.Eventually(t, "the broken pair to be read", func() bool { return readErrors() > before })
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Files overwritten in place are re-read; while the new certificate is
// beside the old key, the old certificate keeps serving.
func TestReloadsFilesOverwrittenInPlace(t *testing.T) {
	dir := t.TempDir()
	first := authtest.TLSPair(t, dir)
	l := listen(t, first.CertFile, first.KeyFile)
	l.trust(first)
	if got, want := l.serial(), first.Cert.SerialNumber.Text(16); got != want {
		t.Fatalf("serial %s, want %s", got, want)
	}
	if !strings.Contains(l.logs.String(), `"msg":"TLS certificate loaded"`) || !strings.Contains(l.logs.String(), first.Cert.SerialNumber.Text(16)) {
		t.Errorf("start log does not name the certificate:\n%s", l.logs)
	}

	next := l.trust(authtest.MustServingCert(t))
	before := readErrors()
	write(t, first.CertFile, next.CertPEM) // beside the old key: a mismatched pair
	waitRejected(t, before)
	if got, want := l.serial(), first.Cert.SerialNumber.Text(16); got != want {
		t.Fatalf("with a mismatched pair: serial %s, want the old %s", got, want)
	}
	write(t, first.KeyFile, next.KeyPEM)
	l.waitFor(next)
	if logs := l.logs.String(); strings.Contains(logs, "PRIVATE KEY") || strings.Contains(logs, string(next.KeyPEM[30:60])) {
		t.Errorf("key material in the log:\n%s", logs)
	}
}

// secretVolume lays files out as the kubelet does for a Secret volume:
// dir/..vN/{tls.crt,tls.key}, dir/..data a symlink to the current ..vN,
// and dir/tls.crt and dir/tls.key symlinks through ..data. An update
// writes a new ..vN, swaps ..data atomically and removes the old one.
type secretVolume struct {
	t   *testing.T
	dir string
	n   int
}

func (v *secretVolume) publish(certPEM, keyPEM []byte) {
	t := v.t
	t.Helper()
	v.n++
	ts := fmt.Sprintf("..v%d", v.n)
	if err := os.Mkdir(filepath.Join(v.dir, ts), 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(v.dir, ts, "tls.crt"), certPEM)
	write(t, filepath.Join(v.dir, ts, "tls.key"), keyPEM)
	tmp := filepath.Join(v.dir, "..data_tmp")
	if err := os.Symlink(ts, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(v.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if v.n == 1 {
		for _, f := range []string{"tls.crt", "tls.key"} {
			if err := os.Symlink(filepath.Join("..data", f), filepath.Join(v.dir, f)); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if err := os.RemoveAll(filepath.Join(v.dir, fmt.Sprintf("..v%d", v.n-1))); err != nil {
		t.Fatal(err)
	}
}

// A Secret volume's atomic swap is seen without a restart; a swap to a
// mismatched pair leaves the old certificate serving, and the next good
// pair is taken.
func TestReloadsASecretVolumeSwap(t *testing.T) {
	v := &secretVolume{t: t, dir: t.TempDir()}
	first := authtest.MustServingCert(t)
	v.publish(first.CertPEM, first.KeyPEM)
	l := listen(t, filepath.Join(v.dir, "tls.crt"), filepath.Join(v.dir, "tls.key"))
	l.waitFor(l.trust(first))

	second := l.trust(authtest.MustServingCert(t))
	v.publish(second.CertPEM, second.KeyPEM)
	l.waitFor(second)

	broken := l.trust(authtest.MustServingCert(t))
	before := readErrors()
	v.publish(broken.CertPEM, second.KeyPEM)
	waitRejected(t, before)
	if got, want := l.serial(), second.Cert.SerialNumber.Text(16); got != want {
		t.Fatalf("with a mismatched pair: serial %s, want the old %s", got, want)
	}

	third := l.trust(authtest.MustServingCert(t))
	v.publish(third.CertPEM, third.KeyPEM)
	l.waitFor(third)
}

// A missing file or a mismatched pair at start is an error naming the
// cause, not a server without a certificate.
func TestRefusesABadPairAtStart(t *testing.T) {
	dir := t.TempDir()
	a, b := authtest.TLSPair(t, dir), authtest.MustServingCert(t)
	write(t, a.KeyFile, b.KeyPEM)
	for _, tc := range []struct{ name, cert, key, want string }{
		{"missing", filepath.Join(dir, "nope.crt"), a.KeyFile, "no such file"},
		{"mismatched", a.CertFile, a.KeyFile, "private key does not match public key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := servingcert.Config(t.Context(), tc.cert, tc.key, slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
