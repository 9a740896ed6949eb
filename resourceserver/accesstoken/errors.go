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

	"github.com/golang-jwt/jwt/v5"
)

// ErrInvalidToken is wrapped by every error of [Validator.Validate] about
// the token itself. Such errors answer 401 with error="invalid_token"
// (RFC 6750 §3.1); their message ("invalid token: token expired") is safe
// to return as error_description and never contains the token. Other
// errors from Validate are server misconfigurations, or [ErrNoKeys].
var ErrInvalidToken = errors.New("invalid token")

// ErrNoKeys is wrapped by the error of Validate and IssueFor when the key
// source has no key set yet (a server still waiting for its keys): nothing
// can be verified or signed, a 503 rather than a verdict on the token.
var ErrNoKeys = errors.New("no key set")

// invalidError is an ErrInvalidToken with a reason safe to show and,
// for logs and errors.Is, the underlying cause.
type invalidError struct {
	reason string
	cause  error
	// kid is set for a token whose "kid" names no key of the key set.
	kid string
}

// invalid returns an ErrInvalidToken error for reason, wrapping cause
// (which may be nil) without showing it.
func invalid(reason string, cause error) error {
	return &invalidError{reason: reason, cause: cause}
}

func (e *invalidError) Error() string { return ErrInvalidToken.Error() + ": " + e.reason }

func (e *invalidError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrInvalidToken}
	}
	return []error{ErrInvalidToken, e.cause}
}

// Invalid returns an error wrapping ErrInvalidToken with a reason that is
// safe to show, for checks made outside this package (revocation).
func Invalid(reason string) error { return invalid(reason, nil) }

// Reason returns the short explanation of an ErrInvalidToken error ("token
// expired"), or "invalid token" for any other error.
func Reason(err error) string {
	if r, ok := ReasonOf(err); ok {
		return r
	}
	return ErrInvalidToken.Error()
}

// UnknownKey returns the "kid" of a token Validate refused because the
// current key set holds no key of that name, and true; false for any other
// error. Right after a key rotation the key may be one a key source can
// fetch again.
func UnknownKey(err error) (kid string, ok bool) {
	var inv *invalidError
	if errors.As(err, &inv) && inv.kid != "" {
		return inv.kid, true
	}
	return "", false
}

// Lasting reports whether Validate's refusal err would be the same at any
// later time with the same keys: true for a malformed token, a bad
// signature, a wrong type, issuer or audience, or an expired token; false
// for a token naming a key the set does not hold (a refetch may find it),
// one not yet valid or issued in the future (it may become valid), and an
// error that is not about the token (no keys, a misconfiguration). A cache
// of refusals keeps only lasting ones.
func Lasting(err error) bool {
	if !errors.Is(err, ErrInvalidToken) {
		return false
	}
	if _, unknown := UnknownKey(err); unknown {
		return false
	}
	return !errors.Is(err, jwt.ErrTokenNotValidYet) && !errors.Is(err, jwt.ErrTokenUsedBeforeIssued)
}

// ReasonOf returns the reason of an error made by this package (by
// Validate or Invalid) and true, or "" and false for any other error, even
// one wrapping ErrInvalidToken: its text is not known to be safe to show.
func ReasonOf(err error) (string, bool) {
	var inv *invalidError
	if errors.As(err, &inv) {
		return inv.reason, true
	}
	return "", false
}
