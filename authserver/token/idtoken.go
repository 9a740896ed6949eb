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
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// IDClaims is the payload of an ID token (OpenID Connect Core §2): who
// logged in, for which client, and when. It is about the user, for the
// client; it is no access token, and validators of access tokens refuse
// it by its "typ" (RFC 9068 §4).
type IDClaims struct {
	jwt.RegisteredClaims
	// AuthTime is when the password was checked: the session's, carried
	// over by every refresh (Core §12.2).
	AuthTime *jwt.NumericDate `json:"auth_time"`
	// PreferredUsername is the username (Core §5.1), also the sub.
	PreferredUsername string `json:"preferred_username"`
	// Groups are the user's groups, when the "groups" scope was granted.
	Groups []string `json:"groups,omitempty"`
	// SessionID is the session's sid, as in its access tokens (OpenID
	// Connect Front-Channel Logout §3).
	SessionID string `json:"sid,omitempty"`
}

// IDTokenIssuer signs ID tokens with the active key of Keys.
type IDTokenIssuer struct {
	Keys signer.Source
	// Issuer is the "iss" claim, the same as access tokens'.
	Issuer string
}

// issue returns the ID token of session s (its sid id), issued at now
// with its access token, and expiring with it, at exp. Its aud is the
// client (Core §2); there is no nonce, as there was no authentication
// request to carry one (Core §3.1.3.6, §12.2).
func (is *IDTokenIssuer) issue(s Session, id string, now, exp time.Time) (string, error) {
	ks := is.Keys.Current()
	if ks == nil {
		return "", fmt.Errorf("issue id token: %w", accesstoken.ErrNoKeys)
	}
	c := IDClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    is.Issuer,
			Subject:   s.User.Username,
			Audience:  jwt.ClaimStrings{s.Client.ID},
			ExpiresAt: jwt.NewNumericDate(exp),
			IssuedAt:  jwt.NewNumericDate(now),
		},
		AuthTime:          jwt.NewNumericDate(s.AuthTime),
		PreferredUsername: s.User.Username,
		SessionID:         id,
	}
	if slices.Contains(s.Scopes, oauth.ScopeGroups) {
		c.Groups = slices.Clone(s.User.Groups)
	}
	return ks.SignAs(signer.IDTokenType, c)
}
