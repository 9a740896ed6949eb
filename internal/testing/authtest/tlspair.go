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

package authtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ServingCert is a self-signed serving certificate (ECDSA P-256, valid for
// a day, its own root), by default for 127.0.0.1 and localhost, with its
// key, as PEM.
type ServingCert struct {
	Cert              *x509.Certificate
	CertPEM, KeyPEM   []byte
	CertFile, KeyFile string // where WriteTLSPair wrote them
}

// Pool is a certificate pool trusting only c.
func (c *ServingCert) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Cert)
	return p
}

// NewServingCert generates a ServingCert without writing it.
func NewServingCert() (*ServingCert, error) {
	return NewServingCertFor([]string{"localhost"}, net.IPv4(127, 0, 0, 1))
}

// NewServingCertFor is NewServingCert for other names and addresses.
func NewServingCertFor(dnsNames []string, ips ...net.IP) (*ServingCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "authstack test server"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // its own root, as httptest's certificate is
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &ServingCert{
		Cert:    cert,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// WriteTLSPair writes a new ServingCert into dir as tls.crt and tls.key,
// the keys of a kubernetes.io/tls Secret.
func WriteTLSPair(dir string) (*ServingCert, error) {
	c, err := NewServingCert()
	if err != nil {
		return nil, err
	}
	c.CertFile, c.KeyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(c.CertFile, c.CertPEM, 0o600); err != nil {
		return nil, err
	}
	return c, os.WriteFile(c.KeyFile, c.KeyPEM, 0o600)
}

// TLSPair is WriteTLSPair for a test: it fails the test on error.
func TLSPair(t testing.TB, dir string) *ServingCert {
	t.Helper()
	c, err := WriteTLSPair(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// MustServingCert is NewServingCert for a test.
func MustServingCert(t testing.TB) *ServingCert {
	t.Helper()
	c, err := NewServingCert()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
