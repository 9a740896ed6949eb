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
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"
)

// TestThumbprintRFC7638 checks the kid against the example of RFC 7638 §3.1.
func TestThumbprintRFC7638(t *testing.T) {
	const (
		n    = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
		e    = "AQAB"
		want = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	)
	nb, err := base64.RawURLEncoding.DecodeString(n)
	must(t, err)
	eb, err := base64.RawURLEncoding.DecodeString(e)
	must(t, err)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}

	k, err := NewPublicKey(pub)
	must(t, err)
	if k.ID != want {
		t.Errorf("kid = %q, want %q", k.ID, want)
	}
	if k.Alg != AlgRS256 || k.CanSign() {
		t.Errorf("alg = %q, CanSign = %v; want RS256 verify-only", k.Alg, k.CanSign())
	}
	if j := k.JWK(); j.N != n || j.E != e || j.Kty != "RSA" || j.Kid != want || j.Use != "sig" {
		t.Errorf("JWK = %+v", j)
	}
}

// TestThumbprintMatchesJWK recomputes each kid from the published JWK with
// a generic canonicalisation (sorted map keys), independent of thumbprint.
func TestThumbprintMatchesJWK(t *testing.T) {
	required := map[string][]string{
		"EC":  {"crv", "kty", "x", "y"},
		"RSA": {"e", "kty", "n"},
		"OKP": {"crv", "kty", "x"},
	}
	for _, tc := range []struct{ alg, kty, crv string }{
		{AlgES256, "EC", "P-256"},
		{AlgES384, "EC", "P-384"},
		{AlgEdDSA, "OKP", "Ed25519"},
		{AlgRS256, "RSA", ""},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			k := newKey(t, tc.alg)
			raw, err := json.Marshal(k.JWK())
			must(t, err)
			var m map[string]string
			must(t, json.Unmarshal(raw, &m))
			if m["kty"] != tc.kty || m["crv"] != tc.crv || m["alg"] != tc.alg || m["kid"] != k.ID {
				t.Fatalf("JWK = %s", raw)
			}
			sub := map[string]string{}
			for _, name := range required[tc.kty] {
				sub[name] = m[name]
			}
			canonical, err := json.Marshal(sub) // map keys marshal sorted
			must(t, err)
			sum := sha256.Sum256(canonical)
			if want := base64.RawURLEncoding.EncodeToString(sum[:]); k.ID != want {
				t.Errorf("kid = %s, want %s", k.ID, want)
			}
			if tc.kty == "EC" {
				size := map[string]int{"P-256": 32, "P-384": 48}[tc.crv]
				for _, c := range []string{m["x"], m["y"]} {
					if b, _ := base64.RawURLEncoding.DecodeString(c); len(b) != size {
						t.Errorf("coordinate of %d bytes, want %d", len(b), size)
					}
				}
			}
		})
	}
}

// TestJWKHasNoPrivateMembers checks the JWK and the JWKS of private keys.
func TestJWKHasNoPrivateMembers(t *testing.T) {
	var keys []*Key
	for _, alg := range []string{AlgES256, AlgES384, AlgEdDSA, AlgRS256} {
		keys = append(keys, newKey(t, alg))
	}
	ks, err := NewKeySet(keys[0], keys...)
	must(t, err)
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	must(t, json.Unmarshal(ks.JWKS(), &doc))
	if len(doc.Keys) != len(keys) {
		t.Fatalf("JWKS has %d keys, want %d", len(doc.Keys), len(keys))
	}
	for i, jwk := range doc.Keys {
		for _, member := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := jwk[member]; ok {
				t.Errorf("key %d has private member %q", i, member)
			}
		}
		if jwk["use"] != "sig" || jwk["kid"] != keys[i].ID || jwk["alg"] != keys[i].Alg {
			t.Errorf("key %d = %v", i, jwk)
		}
	}
}
