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
	// The token server's own parse: a set it would refuse, or in which it
	// would find no key to verify with, is refused here too.
	if _, _, err := signer.ParseClientJWKS([]byte(text)); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPublicKeys, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(text)); err != nil { // cannot fail on what parsed
		return "", fmt.Errorf("%w: %w", ErrInvalidPublicKeys, err)
	}
	return buf.String(), nil
}
