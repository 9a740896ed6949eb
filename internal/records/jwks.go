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

package records

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/signer"
)

// ErrInvalidPublicKeys wraps every refusal of a client's key set.
var ErrInvalidPublicKeys = errors.New("invalid public keys")

// ClientJWKS checks the text of a client's key set (spec.publicKeys) and
// returns it as the registration holds it: compact JSON, so that a set
// reformatted, but not changed, is the same registration. The error wraps
// ErrInvalidPublicKeys and names no key material.
func ClientJWKS(text string) (string, error) {
	if len(text) > v1alpha1.MaxJWKSBytes {
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidPublicKeys, len(text), v1alpha1.MaxJWKSBytes)
	}
	if err := checkClientKeys([]byte(text)); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPublicKeys, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(text)); err != nil { // cannot fail on what parsed
		return "", fmt.Errorf("%w: %w", ErrInvalidPublicKeys, err)
	}
	return buf.String(), nil
}

// privateKeyMembers carry private or secret key material (RFC 7518
// §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2): a client publishes none.
var privateKeyMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// publicKeyMembers are the members each usable key type needs.
var publicKeyMembers = map[string][]string{"EC": {"crv", "x", "y"}, "RSA": {"n", "e"}, "OKP": {"crv", "x"}}

// checkClientKeys is the manager's check of a client's key set: a JSON
// object whose "keys" array holds at most signer.MaxJWKSKeys objects, none
// with a private member, and at least one public key of a signature type
// (EC, RSA, OKP) with the members it needs and no "use" other than "sig".
// It is the shape only: the token server's parse of client keys decides
// which keys verify assertions, and should replace this check once it is
// in internal/signer (signer.ParseJWKS also wants each kid to be the key's
// RFC 7638 thumbprint, which client keys need not follow).
func checkClientKeys(data []byte) error {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return errors.New("not a JSON object with a keys array")
	}
	if len(doc.Keys) > signer.MaxJWKSKeys {
		return fmt.Errorf("%d keys, at most %d", len(doc.Keys), signer.MaxJWKSKeys)
	}
	usable := 0
	for i, raw := range doc.Keys {
		var key map[string]json.RawMessage
		if err := json.Unmarshal(raw, &key); err != nil || key == nil {
			return fmt.Errorf("key %d is not a JSON object", i)
		}
		for _, m := range privateKeyMembers {
			if _, ok := key[m]; ok {
				return fmt.Errorf("key %d has the private member %q: publish public keys only", i, m)
			}
		}
		if usableKey(key) {
			usable++
		}
	}
	if usable == 0 {
		return errors.New("no public signature key (kty EC, RSA or OKP)")
	}
	return nil
}

// usableKey reports whether a key is a public signature key of a known
// type, with the members that type needs.
func usableKey(key map[string]json.RawMessage) bool {
	str := func(name string) string {
		var s string
		if json.Unmarshal(key[name], &s) != nil {
			return ""
		}
		return s
	}
	need, ok := publicKeyMembers[str("kty")]
	if !ok || (key["use"] != nil && str("use") != "sig") {
		return false
	}
	return !slices.ContainsFunc(need, func(m string) bool { return str(m) == "" })
}
