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

package resourceserver

import (
	"net/http"

	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/signer"
)

// The key and error types of the SDK are the token server's own (packages
// internal/signer and internal/oauth), named here so that a service outside
// this module can use them: Options.Keys is a KeySource, RemoteKeys.Current
// returns a *KeySet, Authenticate refuses with an *Error.
type (
	// KeySource provides the current key set; a service fetches it once
	// per request and uses that snapshot throughout.
	KeySource = signer.Source
	// KeySet is an immutable set of verification keys, looked up by kid.
	KeySet = signer.KeySet
)

// MaxJWKSBytes bounds the size of a JWK Set document ParseJWKS reads.
const MaxJWKSBytes = signer.MaxJWKSBytes

// ParseJWKS parses a JWK Set (RFC 7517 §5) into a verify-only key set with
// the checks docs/resource-servers.md lists ("What a JWKS may hold"):
// unusable keys are skipped (skipped says why), and a document with any
// private member is refused whole.
func ParseJWKS(data []byte) (ks *KeySet, skipped []error, err error) {
	return signer.ParseJWKS(data)
}

// StaticKeys is a KeySource that always serves ks: keys a service was
// configured with, or a test's.
func StaticKeys(ks *KeySet) KeySource { return signer.Static(ks) }

// Error is an RFC 6750 §3 refusal, as Authenticate returns it: the code,
// the description, the HTTP status and the WWW-Authenticate challenge.
type Error = oauth.Error

// WriteError writes err as the middleware does: an *Error as its status,
// challenge and JSON body; any other error as a 500 whose cause is never
// shown.
func WriteError(w http.ResponseWriter, err error) { oauth.WriteError(w, err) }
