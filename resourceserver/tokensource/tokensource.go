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

// Package tokensource gets a program its own authstack access tokens, by
// the client_credentials grant (RFC 6749 §4.4), as a golang.org/x/oauth2
// TokenSource: oauth2.NewClient(ctx, src) is an *http.Client that sends
// them, fetching a new one shortly before each expires.
//
// The client authenticates in one of three ways, one function each:
//
//   - [Config.Secret]: its client secret, in HTTP Basic;
//   - [Config.PrivateKey]: private_key_jwt (RFC 7523 §2.2), a fresh
//     assertion signed by its key for every token request;
//   - [Config.ServiceAccountToken]: the pod's projected Kubernetes
//     ServiceAccount token, read from its file for every token request,
//     since the kubelet rotates it.
//
// The request and its answer are golang.org/x/oauth2/clientcredentials',
// so an error of the token server is an *oauth2.RetrieveError (its
// ErrorCode is the RFC 6749 §5.2 error, such as "invalid_client").
package tokensource

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/signer"
)

const (
	// DefaultServiceAccountTokenPath is where the pod's token projection
	// puts its token (docs/programs.md): a serviceAccountToken volume
	// source with path authstack-token, mounted at /var/run/secrets/tokens.
	DefaultServiceAccountTokenPath = "/var/run/secrets/tokens/authstack-token"
	// AssertionType is the client_assertion_type of both assertion kinds
	// (RFC 7523 §2.2).
	AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// AssertionLifetime is how long a private_key_jwt assertion is valid.
	AssertionLifetime = 60 * time.Second
	// MaxServiceAccountTokenBytes bounds the token file read.
	MaxServiceAccountTokenBytes = 16 << 10
)

// Config is the client, and the token server it gets tokens from.
type Config struct {
	// TokenURL is the token server's token endpoint (the token_endpoint of
	// its metadata: the issuer followed by /token). Required.
	TokenURL string
	// ClientID is the AuthClient's client ID. Required.
	ClientID string
	// Scopes are the scopes asked for; none: the server's choice for the
	// client.
	Scopes []string
	// AllowHTTP accepts a plain http:// TokenURL on another host than the
	// loopback, such as an in-cluster Service without TLS: the secret,
	// assertion or ServiceAccount token then crosses the network readable.
	AllowHTTP bool
}

// loopback reports whether host is this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// KeyOptions tune the assertions of [Config.PrivateKey].
type KeyOptions struct {
	// KeyID is the assertions' kid; the key's RFC 7638 thumbprint (what
	// `authstack` and most JWKS tools name a key by) when empty.
	KeyID string
	// Audience is the assertions' aud; the TokenURL when empty.
	Audience string
	// Clock gives the assertions' iat and exp; nil is the real clock.
	Clock clock.PassiveClock
}

// Secret returns a source of tokens for a client that authenticates with
// its secret (client_secret_basic). ctx carries the HTTP client
// (oauth2.HTTPClient) of every token request, and must outlive the source.
func (c Config) Secret(ctx context.Context, secret string) (oauth2.TokenSource, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if secret == "" {
		return nil, errors.New("tokensource: empty client secret")
	}
	return c.source(ctx, secret, oauth2.AuthStyleInHeader, nil), nil
}

// PrivateKey returns a source of tokens for a client that authenticates
// with private_key_jwt (RFC 7523 §2.2): each token request carries a new
// assertion whose iss and sub are the client ID, aud the token endpoint,
// jti random, iat now and exp AssertionLifetime later, signed by key (an
// *ecdsa.PrivateKey on P-256 or P-384, an ed25519.PrivateKey or an
// *rsa.PrivateKey of at least 2048 bits: ES256, ES384, EdDSA or RS256).
// The AuthClient's public keys must hold its public key. ctx is as for
// [Config.Secret].
func (c Config) PrivateKey(ctx context.Context, key crypto.Signer, opts KeyOptions) (oauth2.TokenSource, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("tokensource: no private key")
	}
	k, err := signer.NewKey(key)
	if err != nil {
		return nil, fmt.Errorf("tokensource: %w", err)
	}
	a := assertions{
		method: jwt.GetSigningMethod(k.Alg), key: key, kid: opts.KeyID, aud: opts.Audience,
		clientID: c.ClientID, clock: clocks.Or(opts.Clock),
	}
	if a.kid == "" {
		a.kid = k.ID
	}
	if a.aud == "" {
		a.aud = c.TokenURL
	}
	return c.source(ctx, "", oauth2.AuthStyleInParams, a.params), nil
}

// ServiceAccountToken returns a source of tokens for a client that
// authenticates with the pod's Kubernetes ServiceAccount token, read from
// path (DefaultServiceAccountTokenPath when empty) for every token
// request. The pod's projection must give the token the audience the
// token server expects (its issuer). ctx is as for [Config.Secret].
func (c Config) ServiceAccountToken(ctx context.Context, path string) (oauth2.TokenSource, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if path == "" {
		path = DefaultServiceAccountTokenPath
	}
	return c.source(ctx, "", oauth2.AuthStyleInParams, func() (url.Values, error) {
		tok, err := readToken(path)
		if err != nil {
			return nil, err
		}
		return url.Values{"client_assertion_type": {AssertionType}, "client_assertion": {tok}}, nil
	}), nil
}

func (c Config) check() error {
	u, err := url.Parse(c.TokenURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("tokensource: token URL %q is not an http(s) URL", c.TokenURL)
	}
	if u.Scheme == "http" && !c.AllowHTTP && !loopback(u.Hostname()) {
		return fmt.Errorf("tokensource: token URL %q is plain http, which would send the client's credential readable: use https, or set AllowHTTP", c.TokenURL)
	}
	if c.ClientID == "" {
		return errors.New("tokensource: no client ID")
	}
	return nil
}

// source is the reusing TokenSource of a fetcher.
func (c Config) source(ctx context.Context, secret string, style oauth2.AuthStyle, params func() (url.Values, error)) oauth2.TokenSource {
	return oauth2.ReuseTokenSource(nil, &fetcher{ctx: ctx, cfg: c, secret: secret, style: style, params: params})
}

// fetcher makes one token request per Token call, with the form
// parameters params gives for it.
type fetcher struct {
	ctx    context.Context
	cfg    Config
	secret string
	style  oauth2.AuthStyle
	params func() (url.Values, error)
}

func (f *fetcher) Token() (*oauth2.Token, error) {
	var params url.Values
	if f.params != nil {
		var err error
		if params, err = f.params(); err != nil {
			return nil, err
		}
	}
	cc := &clientcredentials.Config{
		ClientID: f.cfg.ClientID, ClientSecret: f.secret, TokenURL: f.cfg.TokenURL,
		Scopes: f.cfg.Scopes, EndpointParams: params, AuthStyle: f.style,
	}
	return cc.Token(f.ctx)
}

// assertions makes private_key_jwt client assertions.
type assertions struct {
	method   jwt.SigningMethod
	key      crypto.Signer
	kid, aud string
	clientID string
	clock    clock.PassiveClock
}

func (a assertions) params() (url.Values, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return nil, fmt.Errorf("tokensource: %w", err)
	}
	now := a.clock.Now()
	t := jwt.NewWithClaims(a.method, jwt.RegisteredClaims{
		Issuer: a.clientID, Subject: a.clientID, Audience: jwt.ClaimStrings{a.aud},
		ID: base64.RawURLEncoding.EncodeToString(jti), IssuedAt: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(AssertionLifetime)),
	})
	t.Header["kid"] = a.kid
	s, err := t.SignedString(a.key)
	if err != nil {
		return nil, fmt.Errorf("tokensource: sign the client assertion: %w", err)
	}
	return url.Values{"client_assertion_type": {AssertionType}, "client_assertion": {s}}, nil
}

// readToken reads a ServiceAccount token file, refusing an empty one and
// one over MaxServiceAccountTokenBytes. Errors never hold the token.
func readToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("tokensource: service account token: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxServiceAccountTokenBytes+1))
	if err != nil {
		return "", fmt.Errorf("tokensource: service account token: %w", err)
	}
	if len(b) > MaxServiceAccountTokenBytes {
		return "", fmt.Errorf("tokensource: service account token %s is over %d bytes", path, MaxServiceAccountTokenBytes)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("tokensource: service account token %s is empty", path)
	}
	return tok, nil
}
