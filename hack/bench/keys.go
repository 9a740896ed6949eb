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

package main

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

	"github.com/authstack/authstack/internal/signer"
)

// algs are the signing algorithms measured, in report order.
var algs = []string{signer.AlgES256, signer.AlgEdDSA, signer.AlgRS256}

// generateKey makes a fresh private key for alg: ECDSA P-256, Ed25519 or
// RSA 2048.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case signer.AlgES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case signer.AlgEdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case signer.AlgRS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("unsupported algorithm %q", alg)
}

// writeKeyDir creates base/keys-ALG holding active.pem, a PKCS#8 private
// key of alg, and returns the directory and the public key.
func writeKeyDir(base, alg string) (string, crypto.PublicKey, error) {
	key, err := generateKey(alg)
	if err != nil {
		return "", nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", nil, fmt.Errorf("marshal %s key: %w", alg, err)
	}
	dir := filepath.Join(base, "keys-"+alg)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, signer.ActiveFile), data, 0o600); err != nil {
		return "", nil, err
	}
	return dir, key.Public(), nil
}
