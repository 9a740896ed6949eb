//go:build cluster

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

package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/authstack/authstack/internal/testing/authtest"
)

// pki is what the control plane's TLS and service account tokens need:
// kube-apiserver's serving certificate for the bridge address and the
// kubernetes Service's names and ClusterIP (its own root, which the
// clients and the pods trust), and a service account signing key.
type pki struct {
	CAFile, CertFile, KeyFile, SAKeyFile string
}

func writePKI(t *testing.T, dir string, ips ...net.IP) pki {
	t.Helper()
	c, err := authtest.NewServingCertFor([]string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}, ips...)
	if err != nil {
		t.Fatal(err)
	}
	p := pki{
		CAFile:    filepath.Join(dir, "ca.crt"),
		CertFile:  filepath.Join(dir, "apiserver.crt"),
		KeyFile:   filepath.Join(dir, "apiserver.key"),
		SAKeyFile: filepath.Join(dir, "sa.key"),
	}
	writeFile(t, p.CAFile, c.CertPEM)
	writeFile(t, p.CertFile, c.CertPEM)
	writeFile(t, p.KeyFile, c.KeyPEM)
	writeFile(t, p.SAKeyFile, saKeyPEM(t))
	return p
}

// saKeyPEM is a new service account signing key, as SEC1 "EC PRIVATE KEY":
// kube-apiserver reads the public half of EC keys only from that form.
func saKeyPEM(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
