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
	"net/http"
	"strings"
)

// Errors of ParseBearer.
var (
	// ErrNoToken means the request carries no bearer token: no
	// Authorization header, or one with another scheme. Answer 401 with a
	// WWW-Authenticate challenge but no error code (RFC 6750 §3.1).
	ErrNoToken = errors.New("no bearer token")
	// ErrMalformedBearer means a Bearer Authorization header that does not
	// follow RFC 6750 §2.1. Answer 400 with error="invalid_request".
	ErrMalformedBearer = errors.New("malformed bearer authorization header")
	// ErrRepeatedAuthorization means more than one Authorization header:
	// which one counts would be a guess that a proxy in front need not
	// share. Answer 400 with error="invalid_request" (RFC 6750 §3.1).
	ErrRepeatedAuthorization = errors.New("more than one authorization header")
)

// BearerToken returns the bearer token of a request's headers: ErrNoToken
// without one, ErrRepeatedAuthorization for several Authorization headers,
// and ParseBearer's answer for one.
func BearerToken(h http.Header) (string, error) {
	switch values := h.Values("Authorization"); len(values) {
	case 0:
		return "", ErrNoToken
	case 1:
		return ParseBearer(values[0])
	}
	return "", ErrRepeatedAuthorization
}

// ParseBearer returns the token of an Authorization header value of the
// form "Bearer <token>" (RFC 6750 §2.1): the scheme is case-insensitive,
// followed by exactly one space and a token68 (RFC 7235 §2.1).
func ParseBearer(header string) (string, error) {
	scheme, rest := header, ""
	if i := strings.IndexAny(header, " \t"); i >= 0 {
		scheme, rest = header[:i], header[i:]
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoToken
	}
	token, ok := strings.CutPrefix(rest, " ")
	if !ok || !isToken68(token) {
		return "", ErrMalformedBearer
	}
	return token, nil
}

// isToken68 reports whether s matches 1*( ALPHA / DIGIT / "-" / "." / "_" /
// "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	body := strings.TrimRight(s, "=")
	if body == "" {
		return false
	}
	for i := 0; i < len(body); i++ {
		if !token68Chars[body[i]] {
			return false
		}
	}
	return true
}

// token68Chars are the characters of RFC 7235 §2.1's token68 besides the
// trailing "=": a table, since every request's token is scanned.
var token68Chars = func() (t [256]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/", byte(c)) >= 0
	}
	return t
}()
