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
	"crypto/rsa"
	"errors"
	"fmt"
)

// JWS algorithm names (RFC 7518, RFC 8037) of the supported keys.
const (
	AlgES256 = "ES256" // ECDSA P-256 with SHA-256
	AlgES384 = "ES384" // ECDSA P-384 with SHA-384
	AlgEdDSA = "EdDSA" // Ed25519
	AlgRS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, at least 2048 bits
)

// MinRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const MinRSABits = 2048

// ErrUnsupportedKey is wrapped by every error about a key that is well
// formed but not acceptable: an unknown type, an unsupported curve or a
// weak RSA modulus.
var ErrUnsupportedKey = errors.New("unsupported key")

// Key is one signing or verification key.
//
// Build Keys with [NewKey], [NewPublicKey], [ParsePEM] or [Generate], and
// treat them as read-only afterwards.
type Key struct {
	// ID is the key ID (JWS "kid"): the RFC 7638 SHA-256 JWK thumbprint of
	// the public key, base64url without padding.
	ID string
	// Alg is the JWS algorithm the key is used with: one of AlgES256,
	// AlgES384, AlgEdDSA or AlgRS256.
	Alg string
	// Private is the private key (*ecdsa.PrivateKey, ed25519.PrivateKey or
	// *rsa.PrivateKey), or nil for a verify-only key.
	Private crypto.Signer
	// Public is the public key: *ecdsa.PublicKey, ed25519.PublicKey or
	// *rsa.PublicKey.
	Public crypto.PublicKey

	jwk JWK
}

// NewKey returns the Key for a private key. priv must be an
// *ecdsa.PrivateKey (P-256 or P-384), an ed25519.PrivateKey or an
// *rsa.PrivateKey of at least MinRSABits bits.
func NewKey(priv crypto.Signer) (*Key, error) {
	switch priv.(type) {
	case *ecdsa.PrivateKey, ed25519.PrivateKey, *rsa.PrivateKey:
	default:
		return nil, fmt.Errorf("%w: private key type %T", ErrUnsupportedKey, priv)
	}
	k, err := NewPublicKey(priv.Public())
	if err != nil {
		return nil, err
	}
	k.Private = priv
	return k, nil
}

// NewPublicKey returns a verify-only Key for a public key: an
// *ecdsa.PublicKey (P-256 or P-384), an ed25519.PublicKey or an
// *rsa.PublicKey of at least MinRSABits bits.
func NewPublicKey(pub crypto.PublicKey) (*Key, error) {
	jwk, err := publicJWK(pub)
	if err != nil {
		return nil, err
	}
	kid, err := thumbprint(jwk)
	if err != nil {
		return nil, err
	}
	jwk.Kid = kid
	return &Key{ID: kid, Alg: jwk.Alg, Public: pub, jwk: jwk}, nil
}

// CanSign reports whether k holds a private key.
func (k *Key) CanSign() bool { return k.Private != nil }

// JWK returns the public JWK of k (RFC 7517), with "kid", "alg" and
// "use": "sig". It never carries private key members.
func (k *Key) JWK() JWK { return k.jwk }

// sameKey reports whether k and o are the same key pair. A verify-only key
// matches the private key it was derived from.
func (k *Key) sameKey(o *Key) bool {
	pub, ok := k.Public.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(o.Public) {
		return false
	}
	if k.Private == nil || o.Private == nil {
		return true
	}
	priv, ok := k.Private.(interface{ Equal(crypto.PrivateKey) bool })
	return ok && priv.Equal(o.Private)
}

// SupportedAlgs returns the JWS algorithms of the keys this package
// supports, sorted: the only ones a signature it verifies may use.
func SupportedAlgs() []string { return []string{AlgES256, AlgES384, AlgEdDSA, AlgRS256} }
