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
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ErrEncryptedKey is returned for password-protected PEM keys, which the
// server cannot decrypt. Store the key unencrypted in a Secret instead
// (openssl pkey -in enc.pem -out key.pem).
var ErrEncryptedKey = errors.New("encrypted private keys are not supported")

// ParsePEM returns the keys in PEM data, in order. It accepts the blocks
// that openssl genpkey, openssl ecparam -genkey and openssl genrsa write:
//
//   - "PRIVATE KEY": PKCS #8 (EC, Ed25519 or RSA);
//   - "EC PRIVATE KEY": SEC 1;
//   - "RSA PRIVATE KEY": PKCS #1;
//   - "PUBLIC KEY": PKIX SubjectPublicKeyInfo, giving a verify-only key.
//
// "EC PARAMETERS" blocks are skipped. Any other block, an encrypted key,
// an unsupported key, or data without any key is an error. Errors name the
// block, never its contents.
func ParsePEM(data []byte) ([]*Key, error) {
	var keys []*Key
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		key, err := parseBlock(block)
		if err != nil {
			return nil, fmt.Errorf("pem block %d (%q): %w", n, block.Type, err)
		}
		if key != nil {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no key found in pem data")
	}
	return keys, nil
}

// EncodePEM returns k's private key as a PKCS #8 "PRIVATE KEY" PEM block,
// the form [ParsePEM] and [LoadDir] read (for the manager's Secret, and for
// tests and benchmarks that write a key directory). It fails for a
// verify-only key.
func (k *Key) EncodePEM() ([]byte, error) {
	if k.Private == nil {
		return nil, errors.New("encode pem: verify-only key")
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("encode pem: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// parseBlock returns the key in one PEM block, or nil for a block that is
// skipped.
func parseBlock(block *pem.Block) (*Key, error) {
	if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, ErrEncryptedKey
	}
	switch block.Type {
	case "EC PARAMETERS":
		return nil, nil
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		return NewPublicKey(pub)
	case "PRIVATE KEY":
		priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse pkcs8 private key: %w", err)
		}
		signer, ok := priv.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%w: private key type %T", ErrUnsupportedKey, priv)
		}
		return NewKey(signer)
	case "EC PRIVATE KEY":
		priv, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse sec1 ec private key: %w", err)
		}
		return NewKey(priv)
	case "RSA PRIVATE KEY":
		priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse pkcs1 rsa private key: %w", err)
		}
		return NewKey(priv)
	default:
		return nil, errors.New("unsupported pem block type (want PRIVATE KEY, EC PRIVATE KEY, RSA PRIVATE KEY or PUBLIC KEY)")
	}
}
