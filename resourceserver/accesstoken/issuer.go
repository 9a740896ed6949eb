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
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/signer"
)

// Issuer issues access tokens signed by the active key of Keys.
type Issuer struct {
	// Keys provides the signing key set.
	Keys signer.Source
	// Issuer is the "iss" claim: the authorization server's issuer
	// identifier (RFC 8414), an https URL.
	Issuer string
	// Clock stamps "iat" when the request has no IssuedAt; nil is the
	// real clock.
	Clock clock.PassiveClock
}

// Request describes the access token to issue.
type Request struct {
	Subject, ClientID string
	// Username is the resource owner's username, the
	// "preferred_username" claim; empty leaves it out.
	Username                 string
	Audience, Scopes, Groups []string
	TTL                      time.Duration
	// SessionID and Epoch become the "sid" and "authstack_epoch" claims.
	SessionID, Epoch string
	// AuthTime and Credential become "auth_time" (whole seconds) and
	// "authstack_cred"; a zero AuthTime leaves both out.
	AuthTime   time.Time
	Credential int64
	// IssuedAt is the token's iat (whole seconds), when set: a caller that
	// has promised the token expires by IssuedAt + TTL (a session's record
	// of its access tokens' expiry) sets it; zero is now.
	IssuedAt time.Time
}

// IssueFor returns a signed access token, and its claims, for r.Subject
// acting through r.ClientID. r.Audience must name at least one resource
// server; the token lives for r.TTL. Scopes are joined into the
// space-separated "scope" claim (each must be a valid RFC 6749 §3.3 scope
// token); groups go to the "groups" claim. The token gets a fresh random
// 128-bit "jti".
func (is *Issuer) IssueFor(r Request) (string, Claims, error) {
	subject, clientID, audience, scopes, groups, ttl := r.Subject, r.ClientID, r.Audience, r.Scopes, r.Groups, r.TTL
	if err := is.check(subject, clientID, audience, scopes, ttl); err != nil {
		return "", Claims{}, fmt.Errorf("issue access token: %w", err)
	}
	ks := is.Keys.Current()
	if ks == nil {
		return "", Claims{}, fmt.Errorf("issue access token: %w", ErrNoKeys)
	}

	at := r.IssuedAt
	if at.IsZero() {
		at = clocks.Or(is.Clock).Now()
	}
	issuedAt := jwt.NewNumericDate(at) // truncated to whole seconds
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    is.Issuer,
			Subject:   subject,
			Audience:  jwt.ClaimStrings(slices.Clone(audience)),
			ExpiresAt: jwt.NewNumericDate(issuedAt.Add(ttl)),
			IssuedAt:  issuedAt,
			ID:        newTokenID(),
		},
		ClientID:          clientID,
		PreferredUsername: r.Username,
		Scope:             strings.Join(scopes, " "),
		Groups:            slices.Clone(groups),
		SessionID:         r.SessionID,
		Epoch:             r.Epoch,
	}
	if !r.AuthTime.IsZero() {
		claims.AuthTime = jwt.NewNumericDate(r.AuthTime)
		claims.Credential = r.Credential
	}
	token, err := ks.Sign(claims)
	if err != nil {
		return "", Claims{}, fmt.Errorf("issue access token: %w", err)
	}
	return token, claims, nil
}

// check validates the arguments of IssueFor.
func (is *Issuer) check(subject, clientID string, audience, scopes []string, ttl time.Duration) error {
	switch {
	case is.Issuer == "":
		return errors.New("issuer not configured")
	case is.Keys == nil:
		return errors.New("no key source")
	case subject == "":
		return errors.New("empty subject")
	case clientID == "":
		return errors.New("empty client id")
	case len(audience) == 0:
		return errors.New("no audience")
	case slices.Contains(audience, ""):
		return errors.New("empty audience")
	case ttl <= 0:
		return fmt.Errorf("non-positive lifetime %v", ttl)
	}
	for _, s := range scopes {
		if !oauth.ValidScopeToken(s) {
			return fmt.Errorf("invalid scope token %q", s)
		}
	}
	return nil
}

// newTokenID returns 128 random bits, base64url encoded.
func newTokenID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// NewID returns a fresh random 128-bit identifier in the form of a jti, for
// other identifiers of the same strength (session ids).
func NewID() string { return newTokenID() }
