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

// Package discovery serves the authorization server metadata (RFC 8414) and
// the OpenID Connect discovery document derived from it.
package discovery

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/signer"
)

// Metadata is the RFC 8414 document. The endpoint URLs are the issuer
// followed by the paths Options.Endpoints gives; a member without a path
// is left out (the optional ones) or empty.
type Metadata struct {
	Issuer                         string   `json:"issuer"`
	TokenEndpoint                  string   `json:"token_endpoint"`
	JWKSURI                        string   `json:"jwks_uri"`
	UserinfoEndpoint               string   `json:"userinfo_endpoint,omitempty"`
	RevocationEndpoint             string   `json:"revocation_endpoint,omitempty"`
	RevocationAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	// RevocationAuthSigningAlgValuesSupported are the algorithms of
	// private_key_jwt assertions at the revocation endpoint (RFC 8414 §2
	// requires the member when the method is listed there).
	RevocationAuthSigningAlgValuesSupported []string `json:"revocation_endpoint_auth_signing_alg_values_supported,omitempty"`
	IntrospectionEndpoint                   string   `json:"introspection_endpoint,omitempty"`
	IntrospectionAuthMethodsSupported       []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	// IntrospectionAuthSigningAlgValuesSupported: the same at the
	// introspection endpoint.
	IntrospectionAuthSigningAlgValuesSupported []string `json:"introspection_endpoint_auth_signing_alg_values_supported,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	// TokenEndpointAuthSigningAlgValuesSupported are the algorithms of
	// private_key_jwt assertions at the token endpoint (RFC 8414 §2
	// requires the member when the method is listed).
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`

	// OpenID Connect Discovery members, served only on its path.
	SubjectTypesSupported            []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported,omitempty"`
	ClaimsSupported                  []string `json:"claims_supported,omitempty"`
}

// Members of the metadata that hold an endpoint's URL (RFC 8414 §2).
const (
	TokenEndpoint         = "token_endpoint"
	JWKSURI               = "jwks_uri"
	UserinfoEndpoint      = "userinfo_endpoint"
	RevocationEndpoint    = "revocation_endpoint"
	IntrospectionEndpoint = "introspection_endpoint"
)

// Options describe the server for New.
type Options struct {
	// Issuer is the issuer identifier, and the base of every endpoint URL.
	Issuer string
	// GrantTypes are the grant types /token serves.
	GrantTypes []string
	// Endpoints maps each member above to the path of the endpoint the
	// server serves there (the server's route table).
	Endpoints map[string]string
	// Keys are the signing keys: their algorithms are the ID tokens'.
	Keys signer.Source
}

// Handler serves both documents.
type Handler struct {
	opts Options
}

// New returns a handler for the given server.
func New(o Options) *Handler { return &Handler{opts: o} }

// OAuth returns the RFC 8414 metadata.
func (h *Handler) OAuth() Metadata {
	base := strings.TrimSuffix(h.opts.Issuer, "/")
	url := func(member string) string {
		if p, ok := h.opts.Endpoints[member]; ok {
			return base + p
		}
		return ""
	}
	m := Metadata{
		Issuer:           h.opts.Issuer,
		TokenEndpoint:    url(TokenEndpoint),
		JWKSURI:          url(JWKSURI),
		UserinfoEndpoint: url(UserinfoEndpoint),
		// RFC 7009 and RFC 7662, registered in RFC 8414 §2. Public clients
		// may revoke their own tokens; introspection needs a secret.
		RevocationEndpoint:    url(RevocationEndpoint),
		IntrospectionEndpoint: url(IntrospectionEndpoint),
		// There is no authorization endpoint, so no response type is
		// supported; RFC 8414 still requires the member.
		ResponseTypesSupported: []string{},
		// The scopes the server itself defines; an AuthUser's own scopes
		// are the platform's, and not listed (RFC 8414 §2: "MAY choose
		// not to advertise some supported scope values").
		ScopesSupported:                            slices.Clone(oauth.OpenIDScopes),
		GrantTypesSupported:                        h.opts.GrantTypes,
		TokenEndpointAuthMethodsSupported:          []string{secretBasic, secretPost, privateKeyJWT, "none"},
		TokenEndpointAuthSigningAlgValuesSupported: signer.SupportedAlgs(),
	}
	if m.RevocationEndpoint != "" {
		m.RevocationAuthMethodsSupported = []string{secretBasic, secretPost, privateKeyJWT, "none"}
		m.RevocationAuthSigningAlgValuesSupported = signer.SupportedAlgs()
	}
	if m.IntrospectionEndpoint != "" {
		m.IntrospectionAuthMethodsSupported = []string{secretBasic, secretPost, privateKeyJWT}
		m.IntrospectionAuthSigningAlgValuesSupported = signer.SupportedAlgs()
	}
	return m
}

// OpenID returns the document served at the OpenID Connect discovery path:
// the OAuth metadata plus the OpenID Connect members, each true of this
// server. ID tokens are signed with the algorithms of the signing keys.
// subject_types_supported is "public": every client gets the same sub.
// claims_supported lists the claims of ID tokens and of /userinfo. There
// is no authorization endpoint (only the password and refresh_token
// grants issue ID tokens), so authorization_endpoint, which Discovery §3
// marks REQUIRED, is left out rather than pointing nowhere, and
// response_types_supported is empty (docs/decisions.md).
// Without keys, ok is false: the algorithms, a REQUIRED member, are not
// known yet.
func (h *Handler) OpenID() (m Metadata, ok bool) {
	ks := h.opts.Keys.Current()
	if ks == nil {
		return Metadata{}, false
	}
	m = h.OAuth()
	m.SubjectTypesSupported = []string{"public"}
	m.IDTokenSigningAlgValuesSupported = ks.Algs()
	m.ClaimsSupported = slices.Clone(ClaimsSupported)
	return m, true
}

// ClaimsSupported are the claims of ID tokens and /userinfo.
var ClaimsSupported = []string{
	"iss", "sub", "aud", "exp", "iat", "auth_time", "sid", "preferred_username", "groups", "scope", "client_id",
}

// The client authentication methods (RFC 8414 §2, OIDC Registration §2).
const (
	secretBasic   = "client_secret_basic"
	secretPost    = "client_secret_post"
	privateKeyJWT = "private_key_jwt"
)

// ServeOAuth serves GET /.well-known/oauth-authorization-server.
func (h *Handler) ServeOAuth(w http.ResponseWriter, _ *http.Request) { serve(w, h.OAuth()) }

// ServeOpenID serves GET /.well-known/openid-configuration.
// Until the signing keys are loaded it answers 503, as the JWKS does.
func (h *Handler) ServeOpenID(w http.ResponseWriter, _ *http.Request) {
	m, ok := h.OpenID()
	if !ok {
		http.Error(w, "signing keys not loaded", http.StatusServiceUnavailable)
		return
	}
	serve(w, m)
}

func serve(w http.ResponseWriter, m Metadata) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(m)
}
