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

package token

import (
	"slices"

	"github.com/authstack/authstack/internal/oauth"
)

// allowedByClient checks requested scopes against the client's list. A
// client with no list does not restrict scopes; one with a list restricts
// the OpenID Connect scopes too (it lists openid to get ID tokens).
func allowedByClient(requested, clientScopes []string) error {
	if len(clientScopes) == 0 {
		return nil
	}
	for _, s := range requested {
		if !slices.Contains(clientScopes, s) {
			return oauth.InvalidScope("scope not allowed for this client")
		}
	}
	return nil
}

// grantScopes decides the scopes of a grant for a user. Requested scopes
// must all be allowed to the client, and to the user unless they are
// OpenID Connect scopes, which every user may ask for; with none
// requested, the grant gets every scope of the user's the client allows
// (RFC 6749 §3.3 lets the server pick a default).
func grantScopes(requested, userScopes, clientScopes []string) ([]string, error) {
	allowed := func(s string) bool {
		return (oauth.IsOpenIDScope(s) || slices.Contains(userScopes, s)) && (len(clientScopes) == 0 || slices.Contains(clientScopes, s))
	}
	if len(requested) == 0 {
		var out []string
		for _, s := range userScopes {
			if allowed(s) && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out, nil
	}
	for _, s := range requested {
		if !allowed(s) {
			return nil, oauth.InvalidScope("requested scope is not granted to this user")
		}
	}
	return requested, nil
}

// accessScopes are the scopes of a grant that go into its access token:
// all but the OpenID Connect scopes the user was not given. Those only
// shape the ID token; in an access token they would pass a resource
// server that requires a scope of that name, for every user.
func accessScopes(granted, userScopes []string) []string {
	var out []string
	for _, s := range granted {
		if !oauth.IsOpenIDScope(s) || slices.Contains(userScopes, s) {
			out = append(out, s)
		}
	}
	return out
}
