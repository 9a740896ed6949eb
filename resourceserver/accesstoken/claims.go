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
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxTTL caps every access token's lifetime. A revoked session is
// remembered this long (plus margins), so that no access token of it can
// outlive its revocation, whatever client or setting issued it; the
// manager keeps retired signing keys at least this long.
const MaxTTL = 24 * time.Hour

// Claims is the payload of an access token (RFC 9068 §2.2). The registered
// claims iss, sub, aud, exp, iat and jti are always present in tokens this
// package issues or accepts.
type Claims struct {
	jwt.RegisteredClaims
	// ClientID is the OAuth 2.0 client the token was issued to.
	ClientID string `json:"client_id"`
	// PreferredUsername is the user's username (OpenID Connect Core §5.1),
	// the claim Kubernetes and most OIDC tooling map to a user name; the
	// same as sub for a token of a user.
	PreferredUsername string `json:"preferred_username,omitempty"`
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
	// AuthTime is when the user authenticated (OpenID Connect Core §2,
	// RFC 9068 §2.2.1): when the password was checked against the user's
	// record, not when this token was minted; a refresh carries it over.
	// Validators compare it with the user's not-before.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	// Credential is the store.CredentialMark of the user record the
	// password was checked against. Once the user's not-before has moved
	// past it (a password change, a disable, revokeTokensBefore), the
	// token is refused, whatever its times say.
	Credential int64 `json:"authstack_cred,omitempty"`
}

// Session returns when the token's session was authenticated and against
// which credential: auth_time and authstack_cred, or, for a token issued
// before they existed, its iat and no mark.
func (c *Claims) Session() (authTime time.Time, credential int64) {
	if c.AuthTime != nil {
		return c.AuthTime.Time, c.Credential
	}
	if c.IssuedAt != nil {
		return c.IssuedAt.Time, 0
	}
	return time.Time{}, 0
}

// Scopes returns the granted scopes, split on spaces.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// HasScope reports whether scope was granted.
func (c *Claims) HasScope(scope string) bool { return slices.Contains(c.Scopes(), scope) }
