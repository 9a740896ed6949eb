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

package accesstoken

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/internal/signer"
)

const testIssuer = "https://auth.example.test"

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// source is a signer.Source whose set the test can swap, counting calls.
type source struct {
	ks    atomic.Pointer[signer.KeySet]
	calls atomic.Int64
}

func newSource(t testing.TB, active *signer.Key, keys ...*signer.Key) *source {
	t.Helper()
	s := &source{}
	s.set(t, active, keys...)
	return s
}

func (s *source) set(t testing.TB, active *signer.Key, keys ...*signer.Key) {
	t.Helper()
	ks, err := signer.NewKeySet(active, keys...)
	must(t, err)
	s.ks.Store(ks)
}

func (s *source) Current() *signer.KeySet {
	s.calls.Add(1)
	return s.ks.Load()
}

// fixtureKey loads testdata/<name>.pem.
func fixtureKey(t testing.TB, name string) *signer.Key {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".pem"))
	must(t, err)
	keys, err := signer.ParsePEM(data)
	must(t, err)
	return keys[0]
}

// fixtureKeys returns the ES256, EdDSA and RS256 fixture keys.
func fixtureKeys(t testing.TB) map[string]*signer.Key {
	return map[string]*signer.Key{
		signer.AlgES256: fixtureKey(t, "es256"),
		signer.AlgEdDSA: fixtureKey(t, "eddsa"),
		signer.AlgRS256: fixtureKey(t, "rs256"),
	}
}

// validPayload returns the claims of a valid token at t0 as a map, for
// tests that need to shape the JSON exactly.
func validPayload() jwt.MapClaims {
	return jwt.MapClaims{
		"iss":       testIssuer,
		"sub":       "alice",
		"aud":       []string{"api"},
		"exp":       t0.Add(5 * time.Minute).Unix(),
		"iat":       t0.Unix(),
		"jti":       "AAAAAAAAAAAAAAAAAAAAAA",
		"client_id": "cli",
		"scope":     "read write",
	}
}

// header is a JWS header under construction.
type header map[string]any

// validHeader returns the header of a token signed by k.
func validHeader(k *signer.Key) header {
	return header{"alg": k.Alg, "typ": "at+jwt", "kid": k.ID}
}

// signWith signs claims under header with the private key of k, using the
// jwt signing method named by alg.
func signWith(t testing.TB, alg string, header map[string]any, claims jwt.Claims, key any) string {
	t.Helper()
	tok := &jwt.Token{Method: jwt.GetSigningMethod(alg), Header: header, Claims: claims}
	if tok.Method == nil {
		t.Fatalf("no signing method %q", alg)
	}
	s, err := tok.SignedString(key)
	must(t, err)
	return s
}

// signRaw signs the exact JSON texts header and payload with k, for what a
// map cannot express: duplicate members, escaped names, number spellings.
func signRaw(t testing.TB, k *signer.Key, header, payload string) string {
	t.Helper()
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	sig, err := jwt.GetSigningMethod(k.Alg).Sign(in, k.Private)
	must(t, err)
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// jsonText returns the JSON of v with members appended before its closing
// brace: jsonText(t, p, `"sub":"x"`) repeats sub.
func jsonText(t testing.TB, v any, members ...string) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	s := string(b)
	for _, m := range members {
		s = s[:len(s)-1] + "," + m + "}"
	}
	return s
}

// unsigned returns header.payload. with an empty signature.
func unsigned(t testing.TB, header map[string]any, claims any) string {
	t.Helper()
	return segment(t, header) + "." + segment(t, claims) + "."
}

func segment(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodePayload returns the JSON payload of a compact JWS.
func decodePayload(t testing.TB, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	return m
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// with returns a copy of h with name set to value.
func (h header) with(name string, value any) header {
	c := maps.Clone(h)
	c[name] = value
	return c
}

// without returns a copy of h without name.
func (h header) without(name string) header {
	c := maps.Clone(h)
	delete(c, name)
	return c
}
