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
	"context"
	"errors"
	"slices"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// ClientCredentialsGrant is the client credentials grant (RFC 6749 §4.4):
// a confidential client gets an access token for itself, whose sub is
// store.ClientSubject of its ID. The handler has authenticated the client
// and checked that it lists the grant.
type ClientCredentialsGrant struct {
	Minter *Minter
	// States, if set, tells the client's state as validators see it (the
	// revocation mirror): no token is issued that they would refuse, as
	// for a login.
	States StateSource
	// Clock stamps auth_time; nil is the real clock.
	Clock clock.PassiveClock
}

var _ Grant = (*ClientCredentialsGrant)(nil)

var clientRefusals = refusals{
	changed: oauth.Unavailable("the client's registration changed during the request; retry", oauth.StoreRetryAfter,
		errors.New("client credential superseded while it was checked")),
	locked: oauth.InvalidClient("the client's tokens are revoked until a later time"),
	soon:   "the client's tokens are revoked until a moment from now; retry",
}

// Handle issues the client's token: no refresh token (RFC 6749 §4.4.3),
// no ID token, no session.
func (g *ClientCredentialsGrant) Handle(ctx context.Context, req *Request) (*Response, error) {
	c := req.Client
	if c.Public() {
		// A public client cannot be told from anyone naming it (RFC 6749
		// §4.4: confidential clients only), whatever its record lists.
		return nil, oauth.UnauthorizedClient("grant_type client_credentials is for confidential clients only")
	}
	requested, err := oauth.ParseScope(req.Form.Get("scope"))
	if err != nil {
		return nil, err
	}
	scopes, err := clientScopes(requested, c.Scopes)
	if err != nil {
		return nil, err
	}
	if n := accesstoken.UserClaimBytes(store.ClientSubject(c.ID), nil, scopes); n > accesstoken.MaxUserClaimBytes {
		return nil, oauth.InvalidScope("the scopes do not fit in an access token; request fewer")
	}
	// The client was authenticated against the record just read: its
	// not-before's mark is the token's, and a change of credential
	// (a new key set, secret or ServiceAccount) moves it past.
	authTime, mark := clocks.Or(g.Clock).Now(), store.CredentialMark(c.NotBefore)
	if err := current(ctx, store.ClientSubject(c.ID), c.State(), g.States, authTime, mark, clientRefusals); err != nil {
		return nil, err
	}
	return g.Minter.MintClient(ctx, c, scopes, authTime, mark)
}

// clientScopes decides the scopes of a client's own token: each requested
// one must be among the client's, and none requested is all of them (RFC
// 6749 §3.3 lets the server pick a default); a client that lists no scopes
// gets none. The OpenID Connect scopes are about a user, and there is
// none: they are refused.
func clientScopes(requested, clientScopes []string) ([]string, error) {
	if slices.ContainsFunc(requested, oauth.IsOpenIDScope) {
		return nil, oauth.InvalidScope("OpenID Connect scopes need a user; grant_type client_credentials has none")
	}
	if len(requested) == 0 {
		var out []string
		for _, s := range clientScopes {
			if !oauth.IsOpenIDScope(s) && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out, nil
	}
	for _, s := range requested {
		if !slices.Contains(clientScopes, s) {
			return nil, oauth.InvalidScope("scope not allowed for this client")
		}
	}
	return requested, nil
}
