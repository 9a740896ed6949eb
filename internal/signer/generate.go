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
	"fmt"
)

// Generate returns a new random signing key for alg, for development and
// tests: AlgES256 (also for ""), AlgES384, AlgEdDSA or AlgRS256 (2048
// bits). Production keys belong in a Secret loaded by [LoadDir].
func Generate(alg string) (*Key, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case "", AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgES384:
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case AlgEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, MinRSABits)
	default:
		return nil, fmt.Errorf("generate key: unsupported algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	return NewKey(priv)
}
