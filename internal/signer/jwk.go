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
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
)

// The "kty" values (RFC 7518 §6.1, RFC 8037 §2) and the one "use"
// (RFC 7517 §4.2) authstack's keys carry.
const (
	ktyEC  = "EC"
	ktyOKP = "OKP"
	ktyRSA = "RSA"
	useSig = "sig"
)

// JWK is the public JSON Web Key of a [Key] (RFC 7517, RFC 7518 §6,
// RFC 8037 §2). It has no fields for private members, so it cannot leak
// them.
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

var b64 = base64.RawURLEncoding

// publicJWK describes pub as a JWK (without kid) and picks its algorithm.
func publicJWK(pub crypto.PublicKey) (JWK, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		var alg, crv string
		switch k.Curve {
		case elliptic.P256():
			alg, crv = AlgES256, "P-256"
		case elliptic.P384():
			alg, crv = AlgES384, "P-384"
		default:
			name := "unknown"
			if k.Curve != nil {
				name = k.Curve.Params().Name
			}
			return JWK{}, fmt.Errorf("%w: elliptic curve %s (want P-256 or P-384)", ErrUnsupportedKey, name)
		}
		point, err := k.Bytes() // 0x04 || X || Y, each coordinate full length
		if err != nil {
			return JWK{}, fmt.Errorf("encode ec public key: %w", err)
		}
		size := (len(point) - 1) / 2
		return JWK{
			Kty: ktyEC, Crv: crv,
			X:   b64.EncodeToString(point[1 : 1+size]),
			Y:   b64.EncodeToString(point[1+size:]),
			Alg: alg, Use: useSig,
		}, nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return JWK{}, fmt.Errorf("%w: ed25519 public key of %d bytes", ErrUnsupportedKey, len(k))
		}
		if smallOrder(k) {
			return JWK{}, fmt.Errorf("%w: ed25519 public key of small order", ErrUnsupportedKey)
		}
		return JWK{Kty: ktyOKP, Crv: "Ed25519", X: b64.EncodeToString(k), Alg: AlgEdDSA, Use: useSig}, nil
	case *rsa.PublicKey:
		if k.N == nil {
			return JWK{}, fmt.Errorf("%w: rsa public key without modulus", ErrUnsupportedKey)
		}
		if bits := k.N.BitLen(); bits < MinRSABits || bits > MaxRSABits {
			return JWK{}, fmt.Errorf("%w: rsa key of %d bits (want %d to %d)", ErrUnsupportedKey, bits, MinRSABits, MaxRSABits)
		}
		if k.E < 3 || k.E%2 == 0 {
			return JWK{}, fmt.Errorf("%w: rsa public exponent %d", ErrUnsupportedKey, k.E)
		}
		return JWK{
			Kty: ktyRSA,
			N:   b64.EncodeToString(k.N.Bytes()),
			E:   b64.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
			Alg: AlgRS256, Use: useSig,
		}, nil
	default:
		return JWK{}, fmt.Errorf("%w: public key type %T", ErrUnsupportedKey, pub)
	}
}

// thumbprint returns the RFC 7638 SHA-256 thumbprint of jwk: the hash of
// the JSON object of its required members, in lexicographic order and
// without whitespace, base64url encoded without padding.
func thumbprint(jwk JWK) (string, error) {
	// Struct fields are declared in lexicographic order; encoding/json keeps
	// declaration order and emits no whitespace.
	var members any
	switch jwk.Kty {
	case ktyEC:
		members = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
			Y   string `json:"y"`
		}{jwk.Crv, jwk.Kty, jwk.X, jwk.Y}
	case ktyRSA:
		members = struct {
			E   string `json:"e"`
			Kty string `json:"kty"`
			N   string `json:"n"`
		}{jwk.E, jwk.Kty, jwk.N}
	case ktyOKP:
		members = struct {
			Crv string `json:"crv"`
			Kty string `json:"kty"`
			X   string `json:"x"`
		}{jwk.Crv, jwk.Kty, jwk.X}
	default:
		return "", fmt.Errorf("thumbprint: unknown kty %q", jwk.Kty)
	}
	canonical, err := json.Marshal(members)
	if err != nil {
		return "", fmt.Errorf("thumbprint: %w", err)
	}
	sum := sha256.Sum256(canonical)
	return b64.EncodeToString(sum[:]), nil
}

// smallOrderPoints are the encodings of the Ed25519 points of order 1, 2,
// 4 and 8 (with the non-canonical y = p and y = p+1), without the sign
// bit, as libsodium's blocklist lists them. A signature made with no key
// at all verifies under such a public key, so none may verify tokens.
var smallOrderPoints = [][32]byte{
	{0x00}, // y = 0, order 4
	{0x01}, // y = 1, the identity
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05}, // order 8
	{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a}, // order 8
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // y = p-1, order 2
	{0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // y = p, order 4
	{0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // y = p+1, the identity
}

// smallOrder reports whether pub is one of smallOrderPoints, with either
// sign bit.
func smallOrder(pub ed25519.PublicKey) bool {
	var p [32]byte
	copy(p[:], pub)
	p[31] &= 0x7f
	for _, q := range smallOrderPoints {
		if p == q {
			return true
		}
	}
	return false
}
