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
	"path/filepath"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/serverproc"
)

// algs are the signing algorithms measured, in report order.
var algs = []string{signer.AlgES256, signer.AlgEdDSA, signer.AlgRS256}

// writeKeyDir creates base/keys-ALG holding active.pem, a fresh private key
// of alg (ECDSA P-256, Ed25519 or RSA 2048), and returns the directory and
// the public key.
func writeKeyDir(base, alg string) (string, crypto.PublicKey, error) {
	dir := filepath.Join(base, "keys-"+alg)
	key, err := serverproc.WriteKeyOf(dir, alg)
	if err != nil {
		return "", nil, err
	}
	return dir, key.Public, nil
}
