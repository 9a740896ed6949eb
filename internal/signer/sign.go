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
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// TokenType is the JWS "typ" header of access tokens (RFC 9068 §2.1).
const TokenType = "at+jwt"

// IDTokenType is the JWS "typ" header of ID tokens: "JWT" (RFC 7519 §5.1;
// OpenID Connect Core defines none, and validators that follow RFC 9068
// §4 refuse it as an access token).
const IDTokenType = "JWT"

// Sign returns claims as a compact JWS signed by the active key, with the
// header {"alg": <key alg>, "kid": <key id>, "typ": "at+jwt"}.
func (ks *KeySet) Sign(claims jwt.Claims) (string, error) { return ks.SignAs(TokenType, claims) }

// SignAs is Sign with the given "typ" header.
func (ks *KeySet) SignAs(typ string, claims jwt.Claims) (string, error) {
	if ks == nil || ks.Active == nil || !ks.Active.CanSign() {
		return "", errors.New("sign: no active signing key")
	}
	method, err := signingMethod(ks.Active.Alg)
	if err != nil {
		return "", err
	}
	token := jwt.NewWithClaims(method, claims)
	token.Header["typ"] = typ
	token.Header["kid"] = ks.Active.ID
	s, err := token.SignedString(ks.Active.Private)
	if err != nil {
		return "", fmt.Errorf("sign with key %s: %w", ks.Active.ID, err)
	}
	return s, nil
}

// signingMethod returns the jwt signing method for a supported alg.
func signingMethod(alg string) (jwt.SigningMethod, error) {
	switch alg {
	case AlgES256:
		return jwt.SigningMethodES256, nil
	case AlgES384:
		return jwt.SigningMethodES384, nil
	case AlgEdDSA:
		return jwt.SigningMethodEdDSA, nil
	case AlgRS256:
		return jwt.SigningMethodRS256, nil
	default:
		return nil, fmt.Errorf("sign: unsupported algorithm %q", alg)
	}
}
