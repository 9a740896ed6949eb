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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// jwkMap returns the public JWK of k as a map, for tests to edit.
func jwkMap(t testing.TB, k *Key) map[string]any {
	t.Helper()
	raw, err := json.Marshal(k.JWK())
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(raw, &m))
	return m
}

// jwksOf returns a JWK Set document holding entries.
func jwksOf(t testing.TB, entries ...any) []byte {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"keys": entries})
	must(t, err)
	return doc
}

// with returns a copy of m with the given members set (a nil value deletes).
func with(m map[string]any, kv ...any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

// fixtureRSA1024 returns the public half of the 1024-bit fixture key.
func fixtureRSA1024(t testing.TB) *rsa.PublicKey {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "genrsa_1024.pem"))
	must(t, err)
	block, _ := pem.Decode(data)
	priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	must(t, err)
	return &priv.PublicKey
}

func TestParseJWKSRoundTrip(t *testing.T) {
	var keys []*Key
	for _, alg := range []string{AlgES256, AlgES384, AlgEdDSA, AlgRS256} {
		keys = append(keys, newKey(t, alg))
	}
	src, err := NewKeySet(keys[0], keys...)
	must(t, err)

	ks, skipped, err := ParseJWKS(src.JWKS())
	must(t, err)
	if len(skipped) != 0 {
		t.Errorf("skipped %v", skipped)
	}
	if ks.Active != nil {
		t.Errorf("Active = %v, want a verify-only set", ks.Active)
	}
	if len(ks.Keys) != len(keys) {
		t.Fatalf("%d keys, want %d", len(ks.Keys), len(keys))
	}
	for _, want := range keys {
		got, ok := ks.Lookup(want.ID)
		if !ok {
			t.Fatalf("kid %s missing", want.ID)
		}
		if got.CanSign() || got.Alg != want.Alg || !got.sameKey(want) {
			t.Errorf("key %s = %v, want the public half of %v", want.ID, got, want)
		}
	}
	if !slices.Equal(ks.Algs(), []string{AlgES256, AlgES384, AlgEdDSA, AlgRS256}) {
		t.Errorf("Algs = %v", ks.Algs())
	}
	if string(ks.JWKS()) != string(src.JWKS()) {
		t.Errorf("JWKS does not round-trip:\n%s\n%s", ks.JWKS(), src.JWKS())
	}
}

// TestParseJWKSThumbprintRFC7638: a key without "kid" is named by its
// thumbprint; the RSA key of RFC 7638 §3.1 gets the RFC's value.
func TestParseJWKSThumbprintRFC7638(t *testing.T) {
	doc := `{"keys":[{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256"}]}`
	ks, _, err := ParseJWKS([]byte(doc))
	must(t, err)
	if _, ok := ks.Lookup("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"); !ok {
		t.Errorf("keys %v, want the RFC 7638 thumbprint", ks.Keys)
	}
	// The same key under RFC 7517's kid "2011-04-29" is skipped.
	var m map[string]any
	must(t, json.Unmarshal([]byte(doc), &m))
	entry := m["keys"].([]any)[0].(map[string]any)
	_, skipped, err := ParseJWKS(jwksOf(t, with(entry, "kid", "2011-04-29")))
	if !errors.Is(err, ErrInvalidJWKS) || len(skipped) != 1 || !strings.Contains(skipped[0].Error(), "thumbprint") {
		t.Errorf("err %v, skipped %v; want the key skipped for its kid", err, skipped)
	}
}

// TestParseJWKSSkipsUnusableKeys: each document holds a good key and one
// that cannot verify tokens; the good key survives and the bad one is
// reported.
func TestParseJWKSSkipsUnusableKeys(t *testing.T) {
	good := newKey(t, AlgES256)
	ec := jwkMap(t, newKey(t, AlgES256))
	ed := jwkMap(t, newKey(t, AlgEdDSA))
	rs := jwkMap(t, newKey(t, AlgRS256))

	weak := fixtureRSA1024(t)
	weakJWK := map[string]any{"kty": "RSA", "n": b64.EncodeToString(weak.N.Bytes()), "e": "AQAB"}
	huge := new(big.Int).Lsh(big.NewInt(1), MaxRSABits) // MaxRSABits+1 bits
	huge.Add(huge, big.NewInt(1))
	// A P-256 point off the curve: x of a real key with y + 1.
	y := mustDecode(t, ec["y"].(string))
	y[len(y)-1] ^= 1
	// A P-521 key, which the server never uses.
	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	must(t, err)
	p521Point, err := p521.PublicKey.Bytes()
	must(t, err)
	half := (len(p521Point) - 1) / 2

	for name, tc := range map[string]struct {
		entry any
		want  string
	}{
		"use enc":               {with(ec, "use", "enc"), "use"},
		"key_ops encrypt":       {with(ec, "key_ops", []string{"encrypt"}), "key_ops"},
		"alg mismatch":          {with(ec, "alg", "RS256"), "alg"},
		"alg none":              {with(ec, "alg", "none"), "alg"},
		"rsa with PS256":        {with(rs, "alg", "PS256"), "alg"},
		"rsa with RS512":        {with(rs, "alg", "RS512"), "alg"},
		"wrong kid":             {with(ec, "kid", "key-1"), "thumbprint"},
		"kid of another key":    {with(ec, "kid", ed["kid"]), "thumbprint"},
		"kid is a number":       {with(ec, "kid", 7), "not a string"},
		"x is a number":         {with(ec, "x", 7), "not a string"},
		"key_ops is a string":   {with(ec, "key_ops", "verify"), "key_ops"},
		"not an object":         {42, "not a JSON object"},
		"null entry":            {nil, "not a JSON object"},
		"unknown kty":           {map[string]any{"kty": "XYZ", "x": "AA"}, "kty"},
		"oct without k":         {map[string]any{"kty": "oct", "alg": "HS256"}, "kty"},
		"missing kty":           {with(ec, "kty", nil), "kty"},
		"EC P-521":              {map[string]any{"kty": "EC", "crv": "P-521", "x": b64.EncodeToString(p521Point[1 : 1+half]), "y": b64.EncodeToString(p521Point[1+half:])}, "curve"},
		"EC secp256k1":          {with(ec, "crv", "secp256k1", "kid", nil), "curve"},
		"EC point off curve":    {with(ec, "y", b64.EncodeToString(y), "kid", nil), "curve"},
		"EC short x":            {with(ec, "x", ec["x"].(string)[:40], "kid", nil), "length"},
		"EC missing y":          {with(ec, "y", nil, "kid", nil), "missing"},
		"EC padded x":           {with(ec, "x", ec["x"].(string)+"=", "kid", nil), "length"},
		"EC std base64":         {with(ec, "x", "+"+ec["x"].(string)[1:], "kid", nil), "base64url"},
		"OKP X25519":            {with(ed, "crv", "X25519", "kid", nil), "curve"},
		"OKP Ed448":             {with(ed, "crv", "Ed448", "kid", nil), "curve"},
		"OKP short x":           {with(ed, "x", "AAAA", "kid", nil), "length"},
		"OKP identity":          {with(ed, "x", b64.EncodeToString(append([]byte{1}, make([]byte, 31)...)), "kid", nil), "small order"},
		"OKP order 8, sign bit": {with(ed, "x", "JuiVj8KyJ7BFw_SJ8u-Y8NXfrAXTxjM5sTgCiG1T_IU", "kid", nil), "small order"},
		"OKP y = p":             {with(ed, "x", "7f_______________________________________38", "kid", nil), "small order"},
		"RSA 1024 bits":         {weakJWK, "bits"},
		"RSA over max":          {map[string]any{"kty": "RSA", "n": b64.EncodeToString(huge.Bytes()), "e": "AQAB"}, "modulus"},
		"RSA leading zero n":    {with(rs, "n", b64.EncodeToString(append([]byte{0}, mustDecode(t, rs["n"].(string))...)), "kid", nil), "leading zero"},
		"RSA even exponent":     {with(rs, "e", "AQAA", "kid", nil), "exponent"},
		"RSA exponent 1":        {with(rs, "e", "AQ", "kid", nil), "exponent"},
		"RSA huge exponent":     {with(rs, "e", "AQAAAAAB", "kid", nil), "exponent"},
		"RSA missing e":         {with(rs, "e", nil, "kid", nil), "missing"},
		"RSA n not base64url":   {with(rs, "n", "!!!!", "kid", nil), "base64url"},
		"RSA n empty":           {with(rs, "n", "", "kid", nil), "missing"},
		"EC with rsa members":   {with(ec, "kty", "RSA", "kid", nil), "missing"},
		"use sig, ops missing":  {with(ec, "use", "sig", "key_ops", []string{"sign"}), "key_ops"},
	} {
		t.Run(name, func(t *testing.T) {
			ks, skipped, err := ParseJWKS(jwksOf(t, good.JWK(), tc.entry))
			if err != nil {
				t.Fatalf("ParseJWKS: %v", err)
			}
			if len(ks.Keys) != 1 || ks.Keys[0].ID != good.ID {
				t.Errorf("keys %v, want only %s", ks.Keys, good.ID)
			}
			if len(skipped) != 1 {
				t.Fatalf("skipped %v, want one error", skipped)
			}
			if !strings.Contains(skipped[0].Error(), tc.want) {
				t.Errorf("skipped %q, want it to mention %q", skipped[0], tc.want)
			}
		})
	}
}

// TestParseJWKSAcceptedVariants: optional members may be absent, unknown
// members are ignored, and key_ops with verify is accepted.
func TestParseJWKSAcceptedVariants(t *testing.T) {
	ec := jwkMap(t, newKey(t, AlgES256))
	rs := jwkMap(t, newKey(t, AlgRS256))
	for name, entry := range map[string]map[string]any{
		"no kid":              with(ec, "kid", nil),
		"no alg":              with(ec, "alg", nil),
		"no use":              with(ec, "use", nil),
		"rsa without alg":     with(rs, "alg", nil, "use", nil),
		"key_ops verify":      with(ec, "key_ops", []string{"verify"}),
		"unknown members":     with(ec, "x5t", "abc", "ext", true, "nested", map[string]any{"d": 1}),
		"only required ones":  {"kty": "EC", "crv": "P-256", "x": ec["x"], "y": ec["y"]},
		"rsa e of three":      with(rs, "e", "Aw", "kid", nil),
		"rsa e of four bytes": with(rs, "e", "AQAAAQ", "kid", nil),
	} {
		t.Run(name, func(t *testing.T) {
			ks, skipped, err := ParseJWKS(jwksOf(t, entry))
			if err != nil || len(skipped) != 0 || len(ks.Keys) != 1 {
				t.Fatalf("ParseJWKS = %v, %v, %v; want one key", ks, skipped, err)
			}
		})
	}
}

func TestParseJWKSRejectsDocument(t *testing.T) {
	ec := newKey(t, AlgES256)
	m := jwkMap(t, ec)
	const secret = "c2VjcmV0LXByaXZhdGUtc2NhbGFyLWRvLW5vdC1sb2c"
	many := make([]any, MaxJWKSKeys+1)
	for i := range many {
		many[i] = m
	}
	for name, tc := range map[string]struct {
		doc  []byte
		want string
	}{
		"empty":            {nil, "not a JSON object"},
		"not JSON":         {[]byte("<html>"), "not a JSON object"},
		"array":            {[]byte(`[{"kty":"EC"}]`), "not a JSON object"},
		"string":           {[]byte(`"keys"`), "not a JSON object"},
		"no keys member":   {[]byte(`{"kty":"EC"}`), "no keys"},
		"keys null":        {[]byte(`{"keys":null}`), "no keys"},
		"keys an object":   {[]byte(`{"keys":{}}`), "not a JSON object"},
		"keys empty":       {[]byte(`{"keys":[]}`), "no usable"},
		"trailing garbage": {append(jwksOf(t, m), "x"...), "not a JSON object"},
		"two documents":    {append(jwksOf(t, m), jwksOf(t, m)...), "not a JSON object"},
		"too large":        {append(jwksOf(t, m), make([]byte, MaxJWKSBytes)...), "exceeds"},
		"too many keys":    {jwksOf(t, many...), "exceed"},
		"only bad keys":    {jwksOf(t, with(m, "use", "enc"), with(m, "alg", "HS256")), "no usable"},
		"private d":        {jwksOf(t, jwkMap(t, newKey(t, AlgES256)), with(m, "d", secret)), `private member "d"`},
		"private rsa p":    {jwksOf(t, with(m, "p", secret)), `"p"`},
		"private oth":      {jwksOf(t, with(m, "oth", []any{})), `"oth"`},
		"secret oct k":     {jwksOf(t, m, map[string]any{"kty": "oct", "k": secret}), `"k"`},
		"d on a bad key":   {jwksOf(t, m, map[string]any{"kty": "XYZ", "d": secret}), `"d"`},
	} {
		t.Run(name, func(t *testing.T) {
			ks, _, err := ParseJWKS(tc.doc)
			if !errors.Is(err, ErrInvalidJWKS) || ks != nil {
				t.Fatalf("ParseJWKS = %v, %v; want ErrInvalidJWKS", ks, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), m["x"].(string)) {
				t.Errorf("error %q shows key material", err)
			}
		})
	}
}

// TestParseJWKSDuplicates: one key listed twice is kept once.
func TestParseJWKSDuplicates(t *testing.T) {
	k := newKey(t, AlgEdDSA)
	ks, skipped, err := ParseJWKS(jwksOf(t, k.JWK(), k.JWK()))
	must(t, err)
	if len(ks.Keys) != 1 || len(skipped) != 0 {
		t.Errorf("keys %v skipped %v, want one key", ks.Keys, skipped)
	}
}

// TestParseJWKSFixtures parses the JWKS of the OpenSSL fixture keys.
func TestParseJWKSFixtures(t *testing.T) {
	ks, err := NewKeySet(nil, fixtureJWKSKeys(t)...)
	must(t, err)
	got, skipped, err := ParseJWKS(ks.JWKS())
	must(t, err)
	if len(got.Keys) != len(ks.Keys) || len(skipped) != 0 {
		t.Errorf("%d keys, %v skipped; want %d", len(got.Keys), skipped, len(ks.Keys))
	}
}

// fixtureJWKSKeys returns the public halves of the committed fixture keys
// of every supported algorithm: stable inputs for the fuzz seeds.
func fixtureJWKSKeys(t testing.TB) []*Key {
	t.Helper()
	var keys []*Key
	for _, name := range []string{"genpkey_p256.pem", "genpkey_p384.pem", "genpkey_ed25519.pem", "genpkey_rsa2048.pem"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		must(t, err)
		parsed, err := ParsePEM(data)
		must(t, err)
		k, err := NewPublicKey(parsed[0].Public)
		must(t, err)
		keys = append(keys, k)
	}
	return keys
}

func mustDecode(t testing.TB, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	must(t, err)
	return b
}
