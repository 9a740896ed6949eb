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

package accesstoken

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/signer"
)

// Defaults of the Validator's zero fields.
const (
	DefaultLeeway        = 5 * time.Second
	DefaultMaxTokenBytes = 8192
)

// Validator checks access tokens (RFC 9068 §4). Its fields are read-only
// once in use; Validate is safe for concurrent use.
type Validator struct {
	// Keys provides the verification key set.
	Keys signer.Source
	// Issuer is the required "iss" claim. It must be set.
	Issuer string
	// Audiences are the accepted audiences: the token's "aud" must contain
	// at least one of them. When empty, any non-empty "aud" is accepted
	// (for the authorization server's own endpoints that check it later).
	Audiences []string
	// Leeway is the clock skew tolerated on "exp" and "iat": DefaultLeeway
	// when zero, none when negative.
	Leeway time.Duration
	// Clock is the current time of the checks; nil is the real clock.
	Clock clock.PassiveClock
	// MaxTokenBytes bounds the token length, checked before any decoding;
	// DefaultMaxTokenBytes when zero or negative.
	MaxTokenBytes int
}

// Validate verifies raw and returns its claims. raw must be a JWS signed
// by a key of the current key set with that key's algorithm, with "typ"
// at+jwt, a "kid", the configured issuer, an accepted audience, an "exp"
// in the future, an "iat" not in the future, and non-empty "sub", "jti" and
// "client_id" claims. Its header and claims must be JSON objects without
// duplicate member names, and its exp, iat and nbf JSON numbers.
//
// Errors about the token wrap [ErrInvalidToken]; any other error is a
// misconfiguration of the Validator.
func (v *Validator) Validate(raw string) (*Claims, error) {
	c, _, err := v.Verify(raw)
	return c, err
}

// Verify is Validate that also returns the key whose signature it checked,
// for a cache of verified tokens to drop the token once that key leaves
// the key set.
func (v *Validator) Verify(raw string) (*Claims, *signer.Key, error) {
	maxBytes := v.MaxTokenBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxTokenBytes
	}
	if len(raw) > maxBytes {
		return nil, nil, invalid("token too large", nil)
	}
	if raw == "" {
		return nil, nil, invalid("empty token", nil)
	}
	if v.Issuer == "" {
		return nil, nil, errors.New("validate access token: issuer not configured")
	}
	if v.Keys == nil {
		return nil, nil, errors.New("validate access token: no key source")
	}
	ks := v.Keys.Current()
	if ks == nil {
		return nil, nil, fmt.Errorf("validate access token: %w", ErrNoKeys)
	}

	algs := ks.Algs()
	opts := append(v.timeOptions(),
		jwt.WithValidMethods(algs),
		jwt.WithIssuer(v.Issuer),
		jwt.WithStrictDecoding(),
	)
	if len(v.Audiences) > 0 {
		opts = append(opts, jwt.WithAudience(v.Audiences...))
	}
	// Before the signature: the JSON is read only once it is known to
	// mean one thing to every reader.
	if err := checkJSON(raw); err != nil {
		return nil, nil, err
	}
	var (
		claims Claims
		key    *signer.Key
	)
	token, err := jwt.NewParser(opts...).ParseWithClaims(raw, &claims, keyFunc(ks, &key))
	if err != nil {
		return nil, nil, parseError(token, algs, err)
	}
	if err := checkClaims(&claims); err != nil {
		return nil, nil, err
	}
	return &claims, key, nil
}

// timeOptions are the checks of Validate that depend on the clock: exp
// (required), nbf and iat, with the leeway.
func (v *Validator) timeOptions() []jwt.ParserOption {
	return []jwt.ParserOption{
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.leeway()),
		jwt.WithTimeFunc(v.now),
	}
}

// CheckTimes applies to the claims of a token Validate accepted the checks
// of Validate that depend on the clock (exp, nbf and iat, with the leeway,
// against the Validator's clock now), and returns the error Validate would
// return for the token now, or nil. A cache of verified tokens calls it on
// every hit: it compares times the way the jwt parser does (a test holds
// the two together) without building a parser.
func (v *Validator) CheckTimes(c *Claims) error {
	now, leeway := v.now(), v.leeway()
	switch {
	case c.ExpiresAt == nil:
		return invalid("missing required claim", jwt.ErrTokenRequiredClaimMissing)
	case !now.Before(c.ExpiresAt.Add(leeway)):
		return invalid("token expired", jwt.ErrTokenExpired)
	case c.IssuedAt != nil && now.Before(c.IssuedAt.Add(-leeway)):
		return invalid("token issued in the future", jwt.ErrTokenUsedBeforeIssued)
	case c.NotBefore != nil && now.Before(c.NotBefore.Add(-leeway)):
		return invalid("token not yet valid", jwt.ErrTokenNotValidYet)
	}
	return nil
}

func (v *Validator) leeway() time.Duration {
	switch {
	case v.Leeway == 0:
		return DefaultLeeway
	case v.Leeway < 0:
		return 0
	}
	return v.Leeway
}

func (v *Validator) now() time.Time { return clocks.Or(v.Clock).Now() }

// keyFunc checks the header of a parsed, not yet verified, token and
// returns the verification key. The key is returned only when the header
// "alg" is the algorithm of the key named by "kid", which defeats
// algorithm confusion ("none", or HS256 keyed with the public key). The
// key returned is also stored in *used.
func keyFunc(ks *signer.KeySet, used **signer.Key) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		typ, _ := t.Header["typ"].(string)
		if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
			return nil, invalid("wrong token type", nil)
		}
		if _, ok := t.Header["crit"]; ok {
			return nil, invalid("unsupported critical header", nil)
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, invalid("missing key id", nil)
		}
		key, ok := ks.Lookup(kid)
		if !ok {
			return nil, &invalidError{reason: "unknown key id", kid: kid}
		}
		if alg, _ := t.Header["alg"].(string); alg != key.Alg || t.Method.Alg() != key.Alg {
			return nil, invalid("algorithm does not match key", nil)
		}
		*used = key
		return key.Public, nil
	}
}

// parseError maps an error of the jwt parser to an ErrInvalidToken error
// with a short reason.
func parseError(token *jwt.Token, algs []string, err error) error {
	var inv *invalidError
	if errors.As(err, &inv) {
		return inv // from keyFunc
	}
	reason := "invalid token"
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		reason = "malformed token"
	case token != nil && token.Method != nil && !slices.Contains(algs, token.Method.Alg()),
		errors.Is(err, jwt.ErrTokenUnverifiable):
		reason = "unsupported algorithm"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		reason = "invalid signature"
	case errors.Is(err, jwt.ErrTokenExpired):
		reason = "token expired"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		reason = "token issued in the future"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		reason = "token not yet valid"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		reason = "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		reason = "wrong audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		reason = "missing required claim"
	}
	return invalid(reason, err)
}

// checkClaims enforces the claims the parser does not require.
func checkClaims(c *Claims) error {
	switch {
	case c.IssuedAt == nil:
		return invalid("missing iat claim", nil)
	case !slices.ContainsFunc(c.Audience, func(a string) bool { return a != "" }):
		return invalid("missing aud claim", nil)
	case c.Subject == "":
		return invalid("missing sub claim", nil)
	case c.ID == "":
		return invalid("missing jti claim", nil)
	case c.ClientID == "":
		return invalid("missing client_id claim", nil)
	}
	return nil
}

// Skew is the clock-skew leeway the validator applies to exp and iat.
func (v *Validator) Skew() time.Duration { return v.leeway() }
