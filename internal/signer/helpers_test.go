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

package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// rsaKeys caches generated RSA keys: generating them is slow under -race.
var rsaKeys sync.Map // bits -> *rsa.PrivateKey

// newPrivate returns a fresh private key for alg (RS256 keys are shared
// between tests to save time).
func newPrivate(t testing.TB, alg string) crypto.Signer {
	t.Helper()
	switch alg {
	case AlgES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(t, err)
		return k
	case AlgES384:
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(t, err)
		return k
	case AlgEdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		must(t, err)
		return k
	case AlgRS256:
		if k, ok := rsaKeys.Load(2048); ok {
			return k.(*rsa.PrivateKey)
		}
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		must(t, err)
		rsaKeys.Store(2048, k)
		return k
	}
	t.Fatalf("newPrivate: unknown alg %q", alg)
	return nil
}

// newKey returns a fresh Key for alg.
func newKey(t testing.TB, alg string) *Key {
	t.Helper()
	k, err := NewKey(newPrivate(t, alg))
	must(t, err)
	return k
}

// pkcs8PEM encodes priv as a "PRIVATE KEY" block.
func pkcs8PEM(t testing.TB, priv crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	must(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// publicPEM encodes pub as a "PUBLIC KEY" block.
func publicPEM(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	must(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// writeFile writes data to dir/name.
func writeFile(t testing.TB, dir, name string, data []byte) {
	t.Helper()
	must(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
