package accesstoken

import (
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is the payload of an access token (RFC 9068 §2.2). The registered
// claims iss, sub, aud, exp, iat and jti are always present in tokens this
// package issues or accepts.
type Claims struct {
	jwt.RegisteredClaims
	// ClientID is the OAuth 2.0 client the token was issued to.
	ClientID string `json:"client_id"`
	// Scope is the space-separated list of granted scopes (RFC 8693 §4.2).
	Scope string `json:"scope,omitempty"`
	// Groups are the resource owner's groups (RFC 9068 §2.2.3.1, RFC 7643).
	Groups []string `json:"groups,omitempty"`
	// SessionID names the grant the token was issued under: one password
	// login and the refresh tokens rotated from it (the "sid" of OpenID
	// Connect). Revoking a refresh token revokes every access token that
	// shares its sid.
	SessionID string `json:"sid,omitempty"`
	// Epoch is the store epoch the token was issued in. After the store
	// lost data (and with it, possibly, revocations), validators with a
	// revocation mirror refuse tokens from an earlier epoch.
	Epoch string `json:"authstack_epoch,omitempty"`
}

// Scopes returns the granted scopes, split on spaces.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// HasScope reports whether scope was granted.
func (c *Claims) HasScope(scope string) bool { return slices.Contains(c.Scopes(), scope) }
