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
// policy live here, in the caller, so no grant can skip them.
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
	Form     oauth.Form
	Client   store.Client
	ClientIP netip.Addr
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

	// Subject and ClientID are for the audit log only.
	Subject  string `json:"-"`
	ClientID string `json:"-"`
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
