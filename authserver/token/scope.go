package token

import (
	"slices"

	"github.com/authstack/authstack/internal/oauth"
)

// allowedByClient checks requested scopes against the client's list. A
// client with no list does not restrict scopes.
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

// grantScopes decides the scopes of a token for a user. Requested scopes
// must all be allowed to the user and the client; with none requested, the
// token gets every scope both allow (RFC 6749 §3.3 lets the server pick a
// default).
func grantScopes(requested, userScopes, clientScopes []string) ([]string, error) {
	allowed := func(s string) bool {
		return slices.Contains(userScopes, s) && (len(clientScopes) == 0 || slices.Contains(clientScopes, s))
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
