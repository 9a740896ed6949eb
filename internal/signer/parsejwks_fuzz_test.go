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
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var updateFuzzSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the seed corpus in testdata/fuzz")

// FuzzParseJWKS checks that ParseJWKS never panics, that every error of
// the document wraps ErrInvalidJWKS, and that every accepted set holds
// only verify-only keys of the supported algorithms, named by their
// thumbprint, whose JWKS parses back to the same set.
func FuzzParseJWKS(f *testing.F) {
	// The seeds are in testdata/fuzz/FuzzParseJWKS (see TestParseJWKSFuzzSeedCorpus).
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, skipped, err := ParseJWKS(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidJWKS) || ks != nil {
				t.Fatalf("ParseJWKS = %v, %v; want nil and ErrInvalidJWKS", ks, err)
			}
			return
		}
		if len(data) > MaxJWKSBytes || ks == nil || ks.Active != nil || len(ks.Keys) == 0 {
			t.Fatalf("accepted set %v of a %d-byte document", ks, len(data))
		}
		for _, e := range skipped {
			if e == nil {
				t.Fatal("nil skipped error")
			}
		}
		for _, k := range ks.Keys {
			if k.CanSign() || !slices.Contains([]string{AlgES256, AlgES384, AlgEdDSA, AlgRS256}, k.Alg) {
				t.Fatalf("accepted key %v", k)
			}
			again, err := NewPublicKey(k.Public)
			if err != nil || again.ID != k.ID || again.Alg != k.Alg {
				t.Fatalf("key %v: recomputed %v, %v", k, again, err)
			}
		}
		back, skippedBack, err := ParseJWKS(ks.JWKS())
		if err != nil || len(skippedBack) != 0 || !bytes.Equal(back.JWKS(), ks.JWKS()) {
			t.Fatalf("JWKS of an accepted set does not round-trip: %v, %v", skippedBack, err)
		}
	})
}

// jwksSeeds are documents for FuzzParseJWKS: the set of the fixture keys,
// each key alone, and variants that are skipped or rejected.
func jwksSeeds(t testing.TB) [][]byte {
	keys := fixtureJWKSKeys(t)
	all, err := NewKeySet(nil, keys...)
	must(t, err)
	seeds := [][]byte{all.JWKS()}
	for _, k := range keys {
		m := jwkMap(t, k)
		seeds = append(seeds,
			jwksOf(t, m),
			jwksOf(t, with(m, "kid", nil, "alg", nil, "use", nil)),
			jwksOf(t, with(m, "use", "enc")),
			jwksOf(t, with(m, "kid", "key-1")),
			jwksOf(t, with(m, "d", "AAAA")),
		)
	}
	seeds = append(seeds,
		[]byte(""), []byte("{}"), []byte(`{"keys":[]}`), []byte(`{"keys":null}`), []byte(`[]`),
		[]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`),
		[]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`),
		[]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`),
		[]byte(`{"keys":[1,"a",null,{}]}`),
	)
	return seeds
}

// TestParseJWKSFuzzSeedCorpus keeps testdata/fuzz/FuzzParseJWKS in step
// with jwksSeeds: with -update-fuzz-seeds it rewrites the corpus, without
// it checks it.
func TestParseJWKSFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParseJWKS")
	file := func(b []byte) string { return fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b) }
	path := func(i int) string { return filepath.Join(dir, fmt.Sprintf("seed%02d", i)) }
	seeds := jwksSeeds(t)
	if *updateFuzzSeeds {
		must(t, os.RemoveAll(dir))
		must(t, os.MkdirAll(dir, 0o755))
		for i, s := range seeds {
			must(t, os.WriteFile(path(i), []byte(file(s)), 0o644))
		}
	}
	for i, s := range seeds {
		got, err := os.ReadFile(path(i))
		if err != nil || string(got) != file(s) {
			t.Errorf("%s is not seed %d (%v): run go test ./internal/signer -run TestParseJWKSFuzzSeedCorpus -update-fuzz-seeds", path(i), i, err)
		}
	}
}
