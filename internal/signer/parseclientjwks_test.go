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
	"errors"
	"testing"
)

// TestParseClientJWKSKeepsTheClientsKIDs: a client names its keys as it
// likes; ParseJWKS would skip such a key, ParseClientJWKS keeps its kid.
// A key without kid has none, and every check of ParseJWKS still applies.
func TestParseClientJWKSKeepsTheClientsKIDs(t *testing.T) {
	ec, ed := newKey(t, AlgES256), newKey(t, AlgEdDSA)
	doc := jwksOf(t, with(jwkMap(t, ec), "kid", "2026-01 signing"), with(jwkMap(t, ed), "kid", nil))
	if ks, skipped, err := ParseJWKS(doc); err != nil || len(ks.Keys) != 1 || len(skipped) != 1 {
		t.Fatalf("ParseJWKS kept a kid that is not the thumbprint: %v %v %v", ks, skipped, err)
	}
	keys, skipped, err := ParseClientJWKS(doc)
	must(t, err)
	if len(keys) != 2 || len(skipped) != 0 {
		t.Fatalf("keys %v skipped %v", keys, skipped)
	}
	if keys[0].KID != "2026-01 signing" || !keys[0].Key.sameKey(ec) || keys[0].Key.Alg != AlgES256 {
		t.Errorf("key 0 = %+v", keys[0])
	}
	if keys[1].KID != "" || !keys[1].Key.sameKey(ed) {
		t.Errorf("key 1 = %+v", keys[1])
	}
}

// TestParseClientJWKSRejects: the document rules of ParseJWKS hold, and
// two different keys may not share a kid.
func TestParseClientJWKSRejects(t *testing.T) {
	a, b := newKey(t, AlgES256), newKey(t, AlgES256)
	for name, doc := range map[string][]byte{
		"shared kid":     jwksOf(t, with(jwkMap(t, a), "kid", "k"), with(jwkMap(t, b), "kid", "k")),
		"private member": jwksOf(t, with(jwkMap(t, a), "d", "AAAA")),
		"no usable key":  jwksOf(t, with(jwkMap(t, a), "use", "enc")),
		"not a set":      []byte(`[]`),
	} {
		if _, _, err := ParseClientJWKS(doc); !errors.Is(err, ErrInvalidJWKS) {
			t.Errorf("%s: err %v, want ErrInvalidJWKS", name, err)
		}
	}
	// One key listed twice under one kid is the same key.
	keys, _, err := ParseClientJWKS(jwksOf(t, with(jwkMap(t, a), "kid", "k"), with(jwkMap(t, a), "kid", "k")))
	if err != nil || len(keys) != 2 {
		t.Errorf("the same key twice: %v %v", keys, err)
	}
}
