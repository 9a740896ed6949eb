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

package clientauth

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
)

func genKey(t *testing.T, alg string) *signer.Key {
	t.Helper()
	k, err := signer.Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// jwksOf is a JWK Set of the keys' public halves, each under the kid
// given ("" leaves it out).
func jwksOf(t *testing.T, keys []*signer.Key, kids ...string) string {
	t.Helper()
	var entries []map[string]any
	for i, k := range keys {
		raw, err := json.Marshal(k.JWK())
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "kid")
		if kids[i] != "" {
			m["kid"] = kids[i]
		}
		entries = append(entries, m)
	}
	doc, err := json.Marshal(map[string]any{"keys": entries})
	if err != nil {
		t.Fatal(err)
	}
	return string(doc)
}

// A client's key set is parsed once per content: the same JWKS gives the
// same parsed keys, a changed one is parsed again, and the cache holds at
// most maxCachedKeySets clients.
func TestKeyCacheParsesOncePerContent(t *testing.T) {
	var kc keyCache
	a, b := genKey(t, signer.AlgES256), genKey(t, signer.AlgEdDSA)
	c := store.Client{ID: "prog", JWKS: jwksOf(t, []*signer.Key{a}, "a")}
	first, err := kc.get(c)
	if err != nil || len(first) != 1 {
		t.Fatalf("get: %v %v", first, err)
	}
	again, _ := kc.get(c)
	if &again[0] != &first[0] {
		t.Error("the same JWKS was parsed again")
	}
	c.JWKS = jwksOf(t, []*signer.Key{a, b}, "a", "b")
	if changed, err := kc.get(c); err != nil || len(changed) != 2 {
		t.Errorf("a changed JWKS: %v %v", changed, err)
	}
	// An unusable set is an error, every time.
	bad := store.Client{ID: "broken", JWKS: `{"keys":[]}`}
	for range 2 {
		if _, err := kc.get(bad); err == nil {
			t.Fatal("an empty key set parsed")
		}
	}
	for i := range maxCachedKeySets + 10 {
		if _, err := kc.get(store.Client{ID: "c" + strconv.Itoa(i), JWKS: c.JWKS}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(kc.entries); n > maxCachedKeySets {
		t.Errorf("%d cached key sets, at most %d", n, maxCachedKeySets)
	}
}

// candidates are the keys of the assertion's alg and kid; a key the client
// named no kid is named by its thumbprint, and an assertion without kid
// is tried with every key of its alg.
func TestCandidatesByAlgAndKID(t *testing.T) {
	es1, es2, ed := genKey(t, signer.AlgES256), genKey(t, signer.AlgES256), genKey(t, signer.AlgEdDSA)
	keys, _, err := signer.ParseClientJWKS([]byte(jwksOf(t, []*signer.Key{es1, es2, ed}, "one", "", "ed")))
	if err != nil {
		t.Fatal(err)
	}
	ks := clientKeys(keys)
	for name, tc := range map[string]struct {
		method jwt.SigningMethod
		kid    any
		want   int
	}{
		"kid of the client's":          {jwt.SigningMethodES256, "one", 1},
		"thumbprint of a key sans kid": {jwt.SigningMethodES256, es2.ID, 1},
		"thumbprint of a named key":    {jwt.SigningMethodES256, es1.ID, 0},
		"no kid: every key of the alg": {jwt.SigningMethodES256, nil, 2},
		"kid of another alg's key":     {jwt.SigningMethodES256, "ed", 0},
		"EdDSA":                        {jwt.SigningMethodEdDSA, nil, 1},
		"unknown kid":                  {jwt.SigningMethodES256, "two", 0},
		"kid not a string":             {jwt.SigningMethodES256, 1.0, 0},
	} {
		tok := &jwt.Token{Method: tc.method, Header: map[string]any{"alg": tc.method.Alg()}}
		if tc.kid != nil {
			tok.Header["kid"] = tc.kid
		}
		got, err := ks.candidates(tok)
		if tc.want == 0 {
			if err == nil {
				t.Errorf("%s: keys %v, want none", name, got)
			}
			continue
		}
		if err != nil || len(got) != tc.want {
			t.Errorf("%s: %v %v, want %d keys", name, got, err, tc.want)
		}
	}
}
