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
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// Bounds of ParseJWKS.
const (
	// MaxJWKSBytes bounds the size of a JWK Set document. authstack's own
	// set is about 200 bytes a key; 64 KiB holds well over a hundred RSA
	// keys.
	MaxJWKSBytes = 64 << 10
	// MaxJWKSKeys bounds the number of entries of a JWK Set.
	MaxJWKSKeys = 100
	// MaxRSABits bounds the RSA modulus of a verification key, so that a
	// published key cannot make every verification arbitrarily slow.
	MaxRSABits = 8192
)

// ErrInvalidJWKS is wrapped by every error of [ParseJWKS] that rejects the
// whole document.
var ErrInvalidJWKS = errors.New("invalid jwks")

// privateMembers are the JWK members that carry private or secret key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParseJWKS parses a JWK Set (RFC 7517 §5), as served at an authorization
// server's jwks_uri, into a verify-only [KeySet] (its Active key is nil).
//
// It accepts signature keys of these types, each with its one algorithm:
//
//   - "EC" on "P-256" (ES256) or "P-384" (ES384), the point checked to be
//     on the curve;
//   - "OKP" on "Ed25519" (EdDSA);
//   - "RSA" (RS256) of MinRSABits to MaxRSABits bits.
//
// A key that cannot be used to verify tokens is skipped, not fatal: one
// whose "use" is not "sig", whose "key_ops" lacks "verify", whose "alg" is
// not the algorithm above, of another type or curve, a weak or oversized
// RSA key, a malformed one, or one whose "kid" is not its RFC 7638
// thumbprint (the name authstack gives every key; a key without "kid" is
// named by its thumbprint). skipped says why, one error per key, for logs.
//
// The whole document is rejected, wrapping [ErrInvalidJWKS], if it is
// larger than MaxJWKSBytes, is not a JSON object with a "keys" array of at
// most MaxJWKSKeys entries, if any key carries a private or secret member
// ("d", "p", "q", "dp", "dq", "qi", "oth", "k"): a server that publishes
// key material is misconfigured and none of its keys can be trusted, or
// if no usable key remains. Errors never contain key material.
func ParseJWKS(data []byte) (ks *KeySet, skipped []error, err error) {
	keys, _, skipped, err := parseSet(data, false)
	if err != nil {
		return nil, skipped, err
	}
	ks, err = NewKeySet(nil, keys...)
	if err != nil {
		return nil, skipped, fmt.Errorf("%w: %w", ErrInvalidJWKS, err)
	}
	return ks, skipped, nil
}

// ClientKey is a key of a client's JWK Set: the verify-only key (its ID
// is its thumbprint, as every Key's) and the "kid" the client gave it, ""
// when it gave none.
type ClientKey struct {
	Key *Key
	KID string
}

// ParseClientJWKS parses the JWK Set of an OAuth client's keys (RFC 7523
// private_key_jwt, OpenID Connect Core §10.1) as [ParseJWKS] does, with one
// difference: a key's "kid" is the client's own name for it, kept as given
// rather than required to be its RFC 7638 thumbprint (authstack's naming,
// not a client's). Two different keys under one kid reject the document:
// a signature naming that kid could not tell which was meant.
func ParseClientJWKS(data []byte) (keys []ClientKey, skipped []error, err error) {
	parsed, kids, skipped, err := parseSet(data, true)
	if err != nil {
		return nil, skipped, err
	}
	byKID := map[string]*Key{}
	for i, k := range parsed {
		if old, ok := byKID[kids[i]]; ok && kids[i] != "" && !old.sameKey(k) {
			return nil, skipped, fmt.Errorf("%w: two different keys share kid %s", ErrInvalidJWKS, describeKid(kids[i]))
		}
		byKID[kids[i]] = k
		keys = append(keys, ClientKey{Key: k, KID: kids[i]})
	}
	return keys, skipped, nil
}

// parseSet parses a JWK Set document into its usable keys and, when
// ownKIDs, the "kid" of each as the document gives it (otherwise a kid
// must be the key's thumbprint).
func parseSet(data []byte, ownKIDs bool) (keys []*Key, kids []string, skipped []error, err error) {
	if len(data) > MaxJWKSBytes {
		return nil, nil, nil, fmt.Errorf("%w: document of %d bytes exceeds %d", ErrInvalidJWKS, len(data), MaxJWKSBytes)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, nil, fmt.Errorf("%w: not a JSON object with a keys array", ErrInvalidJWKS)
	}
	if doc.Keys == nil {
		return nil, nil, nil, fmt.Errorf("%w: no keys member", ErrInvalidJWKS)
	}
	if len(doc.Keys) > MaxJWKSKeys {
		return nil, nil, nil, fmt.Errorf("%w: %d keys exceed %d", ErrInvalidJWKS, len(doc.Keys), MaxJWKSKeys)
	}

	for i, raw := range doc.Keys {
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil || members == nil {
			skipped = append(skipped, fmt.Errorf("jwks key %d: not a JSON object", i))
			continue
		}
		for _, name := range privateMembers {
			if _, ok := members[name]; ok {
				return nil, nil, nil, fmt.Errorf("%w: key %d has private member %q", ErrInvalidJWKS, i, name)
			}
		}
		k, kid, err := parseJWK(members, ownKIDs)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("jwks key %d: %w", i, err))
			continue
		}
		keys, kids = append(keys, k), append(kids, kid)
	}
	if len(keys) == 0 {
		return nil, nil, skipped, fmt.Errorf("%w: no usable signature key (%d skipped)", ErrInvalidJWKS, len(skipped))
	}
	return keys, kids, skipped, nil
}

// jwkFields are the members ParseJWKS reads. Every one is optional in the
// document; which are required depends on kty.
type jwkFields struct {
	kty, crv, x, y, n, e, kid, alg, use string
	keyOps                              []string
	has                                 map[string]bool
}

// readFields decodes the members parseJWK uses; any of them with the
// wrong JSON type makes the key malformed. Other members are ignored
// (RFC 7517 §4).
func readFields(m map[string]json.RawMessage) (jwkFields, error) {
	f := jwkFields{has: map[string]bool{}}
	for name, dst := range map[string]*string{
		"kty": &f.kty, "crv": &f.crv, "x": &f.x, "y": &f.y, "n": &f.n, "e": &f.e,
		"kid": &f.kid, "alg": &f.alg, "use": &f.use,
	} {
		raw, ok := m[name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return f, fmt.Errorf("member %q is not a string", name)
		}
		f.has[name] = true
	}
	if raw, ok := m["key_ops"]; ok {
		if err := json.Unmarshal(raw, &f.keyOps); err != nil {
			return f, errors.New(`member "key_ops" is not an array of strings`)
		}
		f.has["key_ops"] = true
	}
	return f, nil
}

// parseJWK returns the verify-only Key of one public JWK and its "kid",
// or why it is not usable. Unless ownKID, a kid must be the key's
// thumbprint.
func parseJWK(m map[string]json.RawMessage, ownKID bool) (*Key, string, error) {
	f, err := readFields(m)
	if err != nil {
		return nil, "", err
	}
	name := describeKid(f.kid)
	if f.has["use"] && f.use != useSig {
		return nil, "", fmt.Errorf("key %s: use %q is not sig", name, clip(f.use))
	}
	if f.has["key_ops"] && !slices.Contains(f.keyOps, "verify") {
		return nil, "", fmt.Errorf("key %s: key_ops without verify", name)
	}
	pub, alg, err := publicKeyOf(f)
	if err != nil {
		return nil, "", fmt.Errorf("key %s: %w", name, err)
	}
	if f.has["alg"] && f.alg != alg {
		return nil, "", fmt.Errorf("key %s: %w: alg %q (want %s for this key)", name, ErrUnsupportedKey, clip(f.alg), alg)
	}
	k, err := NewPublicKey(pub)
	if err != nil {
		return nil, "", fmt.Errorf("key %s: %w", name, err)
	}
	if f.has["kid"] && f.kid != k.ID && !ownKID {
		return nil, "", fmt.Errorf("key %s: kid is not the RFC 7638 thumbprint %s", name, k.ID)
	}
	return k, f.kid, nil
}

// publicKeyOf decodes the public key of f and returns it with the one
// algorithm it is used with.
func publicKeyOf(f jwkFields) (crypto.PublicKey, string, error) {
	switch f.kty {
	case ktyEC:
		var (
			curve elliptic.Curve
			alg   string
			size  int
		)
		switch f.crv {
		case "P-256":
			curve, alg, size = elliptic.P256(), AlgES256, 32
		case "P-384":
			curve, alg, size = elliptic.P384(), AlgES384, 48
		default:
			return nil, "", fmt.Errorf("%w: EC curve %q", ErrUnsupportedKey, clip(f.crv))
		}
		x, err := decodeMember("x", f.x, size)
		if err != nil {
			return nil, "", err
		}
		y, err := decodeMember("y", f.y, size)
		if err != nil {
			return nil, "", err
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, "", errors.New("EC point is not on the curve")
		}
		return pub, alg, nil
	case ktyOKP:
		if f.crv != "Ed25519" {
			return nil, "", fmt.Errorf("%w: OKP curve %q", ErrUnsupportedKey, clip(f.crv))
		}
		x, err := decodeMember("x", f.x, ed25519.PublicKeySize)
		if err != nil {
			return nil, "", err
		}
		return ed25519.PublicKey(x), AlgEdDSA, nil
	case ktyRSA:
		n, err := decodeMember("n", f.n, 0)
		if err != nil {
			return nil, "", err
		}
		e, err := decodeMember("e", f.e, 0)
		if err != nil {
			return nil, "", err
		}
		// RFC 7518 §6.3.1: the minimum number of octets.
		if n[0] == 0 || e[0] == 0 {
			return nil, "", errors.New("RSA n or e has leading zero octets")
		}
		if bits := len(n) * 8; bits > MaxRSABits+7 {
			return nil, "", fmt.Errorf("%w: RSA modulus over %d bits", ErrUnsupportedKey, MaxRSABits)
		}
		N := new(big.Int).SetBytes(n)
		if N.BitLen() > MaxRSABits {
			return nil, "", fmt.Errorf("%w: RSA modulus of %d bits (at most %d)", ErrUnsupportedKey, N.BitLen(), MaxRSABits)
		}
		if len(e) > 4 {
			return nil, "", fmt.Errorf("%w: RSA public exponent too large", ErrUnsupportedKey)
		}
		E := new(big.Int).SetBytes(e).Int64()
		if E > 1<<31-1 {
			return nil, "", fmt.Errorf("%w: RSA public exponent too large", ErrUnsupportedKey)
		}
		// NewPublicKey checks the modulus length and the exponent.
		return &rsa.PublicKey{N: N, E: int(E)}, AlgRS256, nil
	default:
		return nil, "", fmt.Errorf("%w: kty %q", ErrUnsupportedKey, clip(f.kty))
	}
}

// decodeMember decodes a base64url member (RFC 7515 §2: no padding).
// size, when positive, is the exact length required.
func decodeMember(name, s string, size int) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("member %q missing or empty", name)
	}
	if size > 0 && len(s) != b64.EncodedLen(size) {
		return nil, fmt.Errorf("member %q has the wrong length", name)
	}
	b, err := b64.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("member %q is not base64url", name)
	}
	return b, nil
}

// describeKid names a key in an error by its kid, shortened.
func describeKid(kid string) string {
	if kid == "" {
		return "without kid"
	}
	return fmt.Sprintf("%q", clip(kid))
}

// clip shortens a value of the document for an error message.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
