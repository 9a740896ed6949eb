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
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// KeySet is an immutable snapshot of the server's keys: the Active key signs
// new tokens, and every key in Keys (which includes Active) verifies them.
// Build it with [NewKeySet] or [LoadDir]; do not modify it afterwards.
type KeySet struct {
	// Active is the signing key, or nil for a verify-only set.
	Active *Key
	// Keys holds every key, Active first, without duplicates.
	Keys []*Key

	byID map[string]*Key
	algs []string
	jwks []byte
}

// NewKeySet returns a KeySet that signs with active and verifies with
// active and keys. Duplicates of one key (same kid and material) are
// merged, keeping the private half when one copy has it. active must hold
// a private key; it may be nil only for a verify-only set, which needs at
// least one key.
func NewKeySet(active *Key, keys ...*Key) (*KeySet, error) {
	if active != nil && !active.CanSign() {
		return nil, fmt.Errorf("active key %s has no private key", active.ID)
	}
	var ix keyIndex
	if active != nil {
		if err := ix.add(active); err != nil {
			return nil, err
		}
	}
	for _, k := range keys {
		if k == nil {
			return nil, errors.New("nil key")
		}
		if err := ix.add(k); err != nil {
			return nil, err
		}
	}
	if len(ix.keys) == 0 {
		return nil, errors.New("empty key set")
	}

	ks := &KeySet{Active: active, Keys: ix.keys, byID: ix.byID}
	jwks := struct {
		Keys []JWK `json:"keys"`
	}{Keys: make([]JWK, 0, len(ks.Keys))}
	for _, k := range ks.Keys {
		jwks.Keys = append(jwks.Keys, k.JWK())
		if !slices.Contains(ks.algs, k.Alg) {
			ks.algs = append(ks.algs, k.Alg)
		}
	}
	slices.Sort(ks.algs)
	var err error
	if ks.jwks, err = json.Marshal(jwks); err != nil {
		return nil, fmt.Errorf("marshal jwks: %w", err)
	}
	return ks, nil
}

// Lookup returns the key with ID kid.
func (ks *KeySet) Lookup(kid string) (*Key, bool) {
	k, ok := ks.byID[kid]
	return k, ok
}

// JWKS returns the public JWK Set document (RFC 7517 §5) of all keys, as
// served at the jwks_uri. It is computed once, when the set is built.
func (ks *KeySet) JWKS() []byte { return bytes.Clone(ks.jwks) }

// Algs returns the distinct algorithms of the keys, sorted: the only
// values a token's "alg" header may take.
func (ks *KeySet) Algs() []string { return slices.Clone(ks.algs) }

// keyIndex collects keys by ID, merging copies of the same key.
type keyIndex struct {
	keys []*Key
	byID map[string]*Key
	pos  map[string]int
}

// add adds k. Adding another copy of a stored key is a no-op, except that
// a private copy replaces a verify-only one. Two different keys under one
// ID are an error.
func (ix *keyIndex) add(k *Key) error {
	if ix.byID == nil {
		ix.byID, ix.pos = map[string]*Key{}, map[string]int{}
	}
	old, ok := ix.byID[k.ID]
	if !ok {
		ix.byID[k.ID], ix.pos[k.ID] = k, len(ix.keys)
		ix.keys = append(ix.keys, k)
		return nil
	}
	if !old.sameKey(k) {
		return fmt.Errorf("two different keys share kid %s", k.ID)
	}
	if !old.CanSign() && k.CanSign() {
		ix.byID[k.ID], ix.keys[ix.pos[k.ID]] = k, k
	}
	return nil
}
