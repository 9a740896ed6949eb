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
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func testClaims() jwt.RegisteredClaims {
	now := time.Now()
	return jwt.RegisteredClaims{
		Issuer:    "https://issuer.test",
		Subject:   "alice",
		Audience:  jwt.ClaimStrings{"api"},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
	}
}

func TestNewKeySet(t *testing.T) {
	active, old, other := newKey(t, AlgES256), newKey(t, AlgEdDSA), newKey(t, AlgRS256)
	oldPublic, err := NewPublicKey(old.Public)
	must(t, err)

	ks, err := NewKeySet(active, oldPublic, other, active, old)
	must(t, err)
	if ks.Active != active {
		t.Errorf("Active = %v, want %v", ks.Active, active)
	}
	// Duplicates merge, the private copy of old replacing the public one.
	if want := []*Key{active, old, other}; !slices.Equal(ks.Keys, want) {
		t.Errorf("Keys = %v, want %v", ks.Keys, want)
	}
	if got, ok := ks.Lookup(old.ID); !ok || got != old {
		t.Errorf("Lookup(old) = %v, %v", got, ok)
	}
	if _, ok := ks.Lookup("nope"); ok {
		t.Error("Lookup(nope) found a key")
	}
	if got, want := ks.Algs(), []string{AlgES256, AlgEdDSA, AlgRS256}; !slices.Equal(got, want) {
		t.Errorf("Algs = %v, want %v", got, want)
	}

	t.Run("jwks is a copy", func(t *testing.T) {
		b := ks.JWKS()
		b[0] = 'X'
		if ks.JWKS()[0] != '{' {
			t.Error("JWKS shares its buffer")
		}
	})
	t.Run("errors", func(t *testing.T) {
		impostor := *other
		impostor.ID = active.ID // a different key under active's kid
		for name, build := range map[string]func() (*KeySet, error){
			"public active": func() (*KeySet, error) { return NewKeySet(oldPublic) },
			"empty":         func() (*KeySet, error) { return NewKeySet(nil) },
			"nil key":       func() (*KeySet, error) { return NewKeySet(active, nil) },
			"kid conflict":  func() (*KeySet, error) { return NewKeySet(active, &impostor) },
		} {
			if ks, err := build(); err == nil {
				t.Errorf("%s: NewKeySet = %v, want error", name, ks.Keys)
			}
		}
	})
	t.Run("verify only", func(t *testing.T) {
		ks, err := NewKeySet(nil, oldPublic)
		must(t, err)
		if _, err := ks.Sign(testClaims()); err == nil {
			t.Error("verify-only set signed")
		}
	})
}

// TestSign checks the header of signed tokens and verifies them.
func TestSign(t *testing.T) {
	for _, alg := range []string{AlgES256, AlgES384, AlgEdDSA, AlgRS256} {
		t.Run(alg, func(t *testing.T) {
			k := newKey(t, alg)
			ks, err := NewKeySet(k)
			must(t, err)
			raw, err := ks.Sign(testClaims())
			must(t, err)

			var claims jwt.RegisteredClaims
			tok, err := jwt.ParseWithClaims(raw, &claims, func(tok *jwt.Token) (any, error) {
				return k.Public, nil
			}, jwt.WithValidMethods([]string{alg}))
			must(t, err)
			h := tok.Header
			if h["typ"] != "at+jwt" || h["kid"] != k.ID || h["alg"] != alg || len(h) != 3 {
				t.Errorf("header = %v", h)
			}
			if claims.Subject != "alice" {
				t.Errorf("claims = %+v", claims)
			}
		})
	}
}

// TestKeyRedaction checks that printing, logging or encoding a Key (or a
// KeySet) never shows private material.
func TestKeyRedaction(t *testing.T) {
	k := parseFixture(t, "genpkey_p256.pem")[0]
	ks, err := NewKeySet(k)
	must(t, err)
	jsonKS, err := json.Marshal(ks)
	must(t, err)
	jsonKey, err := json.Marshal(k)
	must(t, err)
	d := k.Private.(interface{ Bytes() ([]byte, error) })
	raw, err := d.Bytes()
	must(t, err)
	secrets := []string{b64.EncodeToString(raw), new(big.Int).SetBytes(raw).String(), fmt.Sprint(raw)[1:40]} //nolint:staticcheck // QF1010: the byte list, not a string, is the form tested

	for name, s := range map[string]string{
		"%v": sprintf("%v", k), "%+v": sprintf("%+v", k), "%#v": sprintf("%#v", k),
		"keyset %+v": sprintf("%+v", ks), "json key": string(jsonKey), "json keyset": string(jsonKS),
	} {
		for _, secret := range secrets {
			if strings.Contains(s, secret) || strings.Contains(s, `"d"`) {
				t.Errorf("%s leaks the private key: %s", name, s)
			}
		}
	}
	if !strings.Contains(sprintf("%v", k), k.ID) {
		t.Errorf("%%v = %q, want the kid", sprintf("%v", k))
	}
}
