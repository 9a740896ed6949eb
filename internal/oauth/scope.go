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

package oauth

import (
	"slices"
	"strings"
)

// OpenIDScopes are the OpenID Connect scopes every user may ask for,
// whatever their AuthUser and client list: "openid" (an ID token comes
// with the access token), "profile" (the ID token's preferred_username)
// and "groups" (the ID token's groups). They are about the user, to the
// client that logged the user in, and grant no access of their own.
var OpenIDScopes = []string{ScopeOpenID, "profile", ScopeGroups}

// The OpenID Connect scopes the token server acts on.
const (
	ScopeOpenID = "openid"
	ScopeGroups = "groups"
)

// IsOpenIDScope reports whether s is one of OpenIDScopes.
func IsOpenIDScope(s string) bool { return slices.Contains(OpenIDScopes, s) }

// ParseScope splits a scope parameter (RFC 6749 §3.3): scope-tokens of
// %x21 / %x23-5B / %x5D-7E separated by single spaces. It returns
// invalid_scope for anything else. Duplicates are dropped.
func ParseScope(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, " ")
	out := make([]string, 0, len(parts))
	seen := make(map[string]bool, len(parts))
	for _, p := range parts {
		if !ValidScopeToken(p) {
			return nil, InvalidScope("malformed scope")
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// ValidScopeToken reports whether s is a non-empty RFC 6749 scope-token.
func ValidScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != 0x21 && (c < 0x23 || c > 0x5B) && (c < 0x5D || c > 0x7E) {
			return false
		}
	}
	return true
}
