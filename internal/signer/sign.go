package signer

import (
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// TokenType is the JWS "typ" header of access tokens (RFC 9068 §2.1).
const TokenType = "at+jwt"

// Sign returns claims as a compact JWS signed by the active key, with the
// header {"alg": <key alg>, "kid": <key id>, "typ": "at+jwt"}.
func (ks *KeySet) Sign(claims jwt.Claims) (string, error) {
	if ks == nil || ks.Active == nil || !ks.Active.CanSign() {
		return "", errors.New("sign: no active signing key")
	}
	method, err := signingMethod(ks.Active.Alg)
	if err != nil {
		return "", err
	}
	token := jwt.NewWithClaims(method, claims)
	token.Header["typ"] = TokenType
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
