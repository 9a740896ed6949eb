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

package kubecredential

import "slices"

// AuthenticationAPIVersion is the kube-apiserver configuration API of
// AuthenticationConfiguration (GA since Kubernetes 1.34).
const AuthenticationAPIVersion = "apiserver.config.k8s.io/v1"

// The types below are the members of kube-apiserver's
// AuthenticationConfiguration (k8s.io/apiserver/pkg/apis/apiserver/v1)
// that authstack sets: that module's types would bring its tracing
// dependencies into the binary. The tests decode the output strictly with
// kube-apiserver's own scheme and validate it.

// AuthenticationConfiguration is the file of kube-apiserver's
// --authentication-config.
type AuthenticationConfiguration struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	JWT        []JWTAuthenticator `json:"jwt"`
}

// JWTAuthenticator validates the tokens of one issuer.
type JWTAuthenticator struct {
	Issuer               JWTIssuer             `json:"issuer"`
	ClaimValidationRules []ClaimValidationRule `json:"claimValidationRules,omitempty"`
	ClaimMappings        ClaimMappings         `json:"claimMappings"`
	UserValidationRules  []UserValidationRule  `json:"userValidationRules,omitempty"`
}

// ClaimValidationRule is a CEL expression the token's claims must satisfy.
type ClaimValidationRule struct {
	Expression string `json:"expression"`
	Message    string `json:"message,omitempty"`
}

// AccessTokensOnly is the claim validation rule that refuses authstack's ID
// tokens. kube-apiserver does not look at a JWT's "typ", and an ID token's
// aud is its client's ID: without the rule, the ID token of a client named
// like the API server's audience would log in. Access tokens carry
// client_id and jti (RFC 9068 §2.2); ID tokens carry neither.
var AccessTokensOnly = ClaimValidationRule{
	Expression: "has(claims.client_id) && has(claims.jti)",
	Message:    "only authstack access tokens are accepted (an ID token has no client_id)",
}

// JWTIssuer is the issuer, the audiences a token must carry one of, and
// the CA (PEM) kube-apiserver trusts the issuer's discovery and JWKS with.
type JWTIssuer struct {
	URL                  string   `json:"url"`
	Audiences            []string `json:"audiences"`
	CertificateAuthority string   `json:"certificateAuthority,omitempty"`
}

// ClaimMappings map claims to the user's name and groups.
type ClaimMappings struct {
	Username PrefixedClaim `json:"username"`
	Groups   PrefixedClaim `json:"groups"`
}

// PrefixedClaim is a claim and the prefix put before its values; the
// prefix is always written, since kube-apiserver requires it with a claim.
type PrefixedClaim struct {
	Claim  string `json:"claim"`
	Prefix string `json:"prefix"`
}

// UserValidationRule is a CEL expression the mapped user must satisfy.
type UserValidationRule struct {
	Expression string `json:"expression"`
	Message    string `json:"message,omitempty"`
}

// NoSystemNames are the user validation rules that keep the mapped user
// out of the system: names and groups Kubernetes reserves for itself:
// defence in depth behind the prefix, which already cannot be "system:".
var NoSystemNames = []UserValidationRule{
	{Expression: "!user.username.startsWith('system:')", Message: "authstack users may not have system: names"},
	{Expression: "!user.groups.exists(g, g.startsWith('system:'))", Message: "authstack users may not be in system: groups"},
}

// Authentication describes kube-apiserver's JWT authenticator for
// authstack's access tokens.
type Authentication struct {
	Issuer string
	// Audience is the AuthClient's audience the tokens carry (aud).
	Audience string
	// CA is the PEM the API server trusts the issuer with; empty for the
	// system roots.
	CA []byte
	// Prefix goes before every username and group (authstack:alice).
	Prefix string
}

// UsernameClaim is the access-token claim Kubernetes maps to the username:
// preferred_username (OpenID Connect Core §5.1), the claim OIDC tooling
// expects; authstack's sub is the username too.
const UsernameClaim = "preferred_username"

// Config is the AuthenticationConfiguration of kube-apiserver's
// --authentication-config: one JWT authenticator for the issuer.
func (a Authentication) Config() AuthenticationConfiguration {
	return AuthenticationConfiguration{
		APIVersion: AuthenticationAPIVersion,
		Kind:       "AuthenticationConfiguration",
		JWT: []JWTAuthenticator{{
			Issuer:               JWTIssuer{URL: a.Issuer, Audiences: []string{a.Audience}, CertificateAuthority: string(a.CA)},
			ClaimValidationRules: []ClaimValidationRule{AccessTokensOnly},
			ClaimMappings: ClaimMappings{
				Username: PrefixedClaim{Claim: UsernameClaim, Prefix: a.Prefix},
				Groups:   PrefixedClaim{Claim: "groups", Prefix: a.Prefix},
			},
			UserValidationRules: slices.Clone(NoSystemNames),
		}},
	}
}
