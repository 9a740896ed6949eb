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
	"crypto/sha256"
	"errors"
	"strings"
	"sync"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
)

// maxCachedKeySets bounds the clients whose parsed key sets are kept:
// each is a few keys, so the cache stays well under a megabyte.
const maxCachedKeySets = 1024

// keyCache keeps each client's parsed JWK Set, so that a set is parsed
// once, not per request; an entry is used only while the client's JWKS
// is the one it was parsed from (its SHA-256). The zero value is ready.
type keyCache struct {
	mu      sync.Mutex
	entries map[string]cachedKeys
}

type cachedKeys struct {
	hash [sha256.Size]byte
	keys clientKeys
	err  error
}

// get returns the keys of c's JWKS, parsed once per content; a set that
// does not parse is an error, remembered as well.
func (kc *keyCache) get(c store.Client) (clientKeys, error) {
	hash := sha256.Sum256([]byte(c.JWKS))
	kc.mu.Lock()
	e, ok := kc.entries[c.ID]
	kc.mu.Unlock()
	if ok && e.hash == hash {
		return e.keys, e.err
	}
	keys, _, err := signer.ParseClientJWKS([]byte(c.JWKS))
	e = cachedKeys{hash: hash, keys: keys, err: err}
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if kc.entries == nil {
		kc.entries = make(map[string]cachedKeys)
	}
	if _, ok := kc.entries[c.ID]; !ok && len(kc.entries) >= maxCachedKeySets {
		for id := range kc.entries { // any one: a miss costs one parse
			delete(kc.entries, id)
			break
		}
	}
	kc.entries[c.ID] = e
	return e.keys, e.err
}

// clientKeys are a client's verification keys.
type clientKeys []signer.ClientKey

var (
	errKID    = errors.New("kid header is not a string")
	errNoKeys = errors.New("no key of the client for the assertion's alg and kid")
)

// candidates returns the client's keys that may have signed t: those of
// its alg (each key has one) and, when t names a kid, of that kid (a key
// the client gave no kid is named by its RFC 7638 thumbprint).
func (ks clientKeys) candidates(t *jwt.Token) ([]jwt.VerificationKey, error) {
	kid, ok := t.Header["kid"].(string)
	if _, present := t.Header["kid"]; present && !ok {
		return nil, errKID
	}
	var keys []jwt.VerificationKey
	for _, k := range ks {
		switch {
		case k.Key.Alg != t.Method.Alg():
		case kid == "", kid == k.KID, k.KID == "" && kid == k.Key.ID:
			keys = append(keys, k.Key.Public)
		}
	}
	if len(keys) == 0 {
		return nil, errNoKeys
	}
	return keys, nil
}

// verify checks the signature of t, decoded from raw by peek (which
// refused an alg not of signer.SupportedAlgs), with the candidates among
// the client's keys, as golang-jwt's ParseWithClaims would: the assertion
// is decoded once, not again to be verified.
func (ks clientKeys) verify(t *jwt.Token, raw string) error {
	keys, err := ks.candidates(t)
	if err != nil {
		return err
	}
	signed := raw[:strings.LastIndexByte(raw, '.')] // header.claims
	for _, k := range keys {
		if err = t.Method.Verify(signed, t.Signature, k); err == nil {
			return nil
		}
	}
	return err
}
