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

// Package token implements the token endpoint (RFC 6749 §3.2): the form is
// parsed once, the client is authenticated, and the request is handed to the
// handler of its grant type. Client authentication and the client's grant
// policy live here, in the caller, so no grant can skip them: a grant that
// reads a named client's registration with its own first reads
// (NamedClientGrant) judges it with the caller's PendingClient, and the
// caller refuses an answer given without that judgement.
package token

import (
	"context"
	"net/netip"

	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/store"
)

// Grant types this server knows.
const (
	GrantPassword          = "password"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// Request is a parsed, client-authenticated token request.
type Request struct {
	GrantType string
	// Form holds the body parameters. A grant deletes secrets from it once
	// they have been checked.
	Form oauth.Form
	// Client is the authenticated client; for NamedClientGrant.HandleNamed,
	// the client its PendingClient admitted, once it has.
	Client   store.Client
	ClientIP netip.Addr

	// Username and SessionID are for the audit trail, set by the grant
	// once it knows them: the user, once the store has a record of that
	// name (never the username field of a login for a name no user has,
	// which may be a password typed in the wrong field), and the session
	// of a refresh token the store holds.
	Username  string
	SessionID string
}

// NamedClientGrant is a grant that reads the registration of a client
// that authenticates by naming itself (a public client, or the default
// client: clientauth.Authenticator.Named) together with its own first
// reads, instead of after the client is authenticated: one round trip
// fewer.
type NamedClientGrant interface {
	Grant
	// HandleNamed is Handle for a request whose client is not
	// authenticated yet. The grant reads c.ID's registration with its
	// first reads and has c.Admit judge it before anything else: before
	// it writes, rotates or revokes anything, and before any answer of
	// its own, so that a refused client is answered as if it had been
	// authenticated first (and nothing else happened). A request the
	// grant refuses before reading anything is first given to
	// c.Authenticate. Admit sets req.Client.
	HandleNamed(ctx context.Context, req *Request, c *PendingClient) (*Response, error)
}

// PendingClient is the client of a request that names itself, before it
// is authenticated: Handler makes it, with the client authentication's
// rules and the endpoint's policy for the client.
type PendingClient struct {
	// ID is the client's: the registration to read.
	ID string

	judge    func(ctx context.Context, c store.Client, err error) (store.Client, error)
	read     func(ctx context.Context, id string) (store.Client, error)
	admitted bool
}

// Admit judges the client from its registration as GetClient read it (c,
// or err) and, when it is admitted, sets req.Client to it. The error is
// the answer for the request: invalid_client, unauthorized_client, a 503.
func (p *PendingClient) Admit(ctx context.Context, req *Request, c store.Client, err error) error {
	c, err = p.judge(ctx, c, err)
	if err != nil {
		return err
	}
	req.Client, p.admitted = c, true
	return nil
}

// Authenticate reads the client's registration alone and admits it: for
// a request the grant refuses before its first reads, whose answer is the
// client's refusal when the client is refused.
func (p *PendingClient) Authenticate(ctx context.Context, req *Request) error {
	c, err := p.read(ctx, p.ID)
	return p.Admit(ctx, req, c, err)
}

// Response is the successful token response of RFC 6749 §5.1.
type Response struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
	// IDToken is the OpenID Connect ID token, for a grant with "openid"
	// in its scopes (OpenID Connect Core §3.1.3.3).
	IDToken string `json:"id_token,omitempty"`

	// Subject, ClientID and SessionID (the access token's sid, if any)
	// are for the logs and the audit trail only.
	Subject   string `json:"-"`
	ClientID  string `json:"-"`
	SessionID string `json:"-"`
}

// Grant handles one grant type. It returns an *oauth.Error for every
// failure the client should see.
type Grant interface {
	Handle(ctx context.Context, req *Request) (*Response, error)
}

// Overloadable is a grant that can tell, before anything is written to the
// store, that it has no capacity for another request.
type Overloadable interface {
	// Overloaded returns a 503 error when the grant would refuse a request
	// for lack of capacity, nil otherwise.
	Overloaded() error
}
