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
	"log/slog"
)

// Keys hold private material in exported fields, so every generic way of
// printing or encoding one is routed to its public description instead.

// String describes k by algorithm and kid, never by key material.
func (k *Key) String() string {
	kind := "public"
	if k.CanSign() {
		kind = "private"
	}
	return fmt.Sprintf("%s %s key %s", k.Alg, kind, k.ID)
}

// GoString is the same as String, so that %#v cannot print key material.
func (k *Key) GoString() string { return k.String() }

// LogValue implements slog.LogValuer with the kid and algorithm only.
func (k *Key) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kid", k.ID),
		slog.String("alg", k.Alg),
		slog.Bool("private", k.CanSign()),
	)
}

// MarshalJSON encodes k as its public JWK.
func (k *Key) MarshalJSON() ([]byte, error) { return json.Marshal(k.jwk) }
