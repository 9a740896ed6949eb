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

package clientauth

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
)

// Client assertions (RFC 7521 §4.2, RFC 7523 §2.2): a JWT in the
// client_assertion parameter authenticates the client, signed by one of
// its registered keys (private_key_jwt) or, for a client naming a
// Kubernetes ServiceAccount, issued by the cluster to that account.
const (
	// AssertionType is the only client_assertion_type accepted.
	AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// MaxAssertionBytes bounds a client assertion, checked before any
	// decoding. A signed assertion is a few hundred bytes (an RS256 one
	// about 700), a projected ServiceAccount token one or two kilobytes.
	MaxAssertionBytes = 8 << 10
	// MaxAssertionLifetime bounds how far ahead of now a private_key_jwt
	// assertion's exp may be (plus the clock-skew leeway): an assertion is
	// made for one request, and its jti is remembered until its exp, so a
	// long one would only cost the store memory.
	MaxAssertionLifetime = 5 * time.Minute
	// MaxJTIBytes bounds a private_key_jwt assertion's jti.
	MaxJTIBytes = 256
)

// Parameters of client assertions (RFC 7521 §4.2).
const (
	paramAssertionType = "client_assertion_type"
	paramAssertion     = "client_assertion"
)

// serviceAccountSubjectPrefix starts the sub of every Kubernetes
// ServiceAccount token.
const serviceAccountSubjectPrefix = "system:serviceaccount:"

// errNoServiceAccounts refuses a ServiceAccount client on a server that
// verifies no ServiceAccount tokens.
var errNoServiceAccounts = oauth.InvalidClient("ServiceAccount tokens are not accepted by this server (--service-account-clients)")

// checkAssertion authenticates the client of a client assertion: the one
// client_id names or, without it, the one the assertion's iss and sub
// name. Like a secret, the assertion is checked under the client's
// throttle: every refusal (a bad signature too: guessing one is hopeless,
// but a flood of them is not free) counts as a failed attempt.
func (a *Authenticator) checkAssertion(ctx context.Context, formID, raw string, ip netip.Addr) (store.Client, error) {
	id, err := assertionClientID(formID, raw)
	if err != nil {
		return store.Client{}, err
	}
	attempt, err := a.Limiter.Begin(ctx, "client:"+id, ip)
	if err != nil {
		return store.Client{}, throttle.Refusal(a.Metrics, err)
	}
	c, err := a.verifyAssertion(ctx, id, formID != "", raw)
	return c, settle(ctx, attempt, err)
}

// settle ends attempt by the outcome of its check: a refusal
// (invalid_client) is a failure; a check that could not be made (the
// store, the cluster) counts nothing.
func settle(ctx context.Context, attempt *throttle.Attempt, err error) error {
	switch {
	case err == nil:
		if err := attempt.Succeed(ctx); err != nil {
			return oauth.StoreUnavailable(err)
		}
		return nil
	case oauth.As(err).Code == oauth.CodeInvalidClient:
		if err := attempt.Fail(ctx); err != nil {
			return oauth.StoreUnavailable(err)
		}
		return err
	}
	_ = attempt.Withdraw(ctx)
	return err
}

// assertionClientID returns the canonical ID of the client an assertion
// authenticates: client_id when sent, else the iss of the assertion (read
// without verification, only to find the client; verification follows),
// which must equal its sub (RFC 7523 §3).
func assertionClientID(formID, raw string) (string, error) {
	if len(raw) > MaxAssertionBytes {
		return "", oauth.InvalidClient("client_assertion larger than 8192 bytes")
	}
	claims, err := peek(raw)
	if err != nil {
		return "", err
	}
	id := formID
	switch {
	case id != "":
	case claims.Issuer == "" || claims.Issuer != claims.Subject:
		if strings.HasPrefix(claims.Subject, serviceAccountSubjectPrefix) {
			return "", oauth.InvalidClient("client_id is required with a ServiceAccount token (its sub is not a client ID)")
		}
		return "", oauth.InvalidClient("client_assertion: iss and sub must both be the client ID (RFC 7523 section 3)")
	default:
		id = claims.Issuer
	}
	if !v1alpha1.ValidName(id) {
		// No client has this name (the CRD schema forbids it).
		return "", oauth.InvalidClient("client authentication failed")
	}
	return v1alpha1.CanonicalName(id), nil
}

// peek decodes an assertion without verifying it, refusing what no
// verification could accept: a malformed JWT or an algorithm that is not
// one of the keys' (never "none", never HMAC).
func peek(raw string) (*jwt.RegisteredClaims, error) {
	var claims jwt.RegisteredClaims
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &claims)
	switch {
	case errors.Is(err, jwt.ErrTokenUnverifiable), err == nil && !slices.Contains(signer.SupportedAlgs(), tok.Method.Alg()):
		return nil, oauth.InvalidClient("client_assertion: alg must be one of " + strings.Join(signer.SupportedAlgs(), ", "))
	case err != nil:
		return nil, oauth.InvalidClient("client_assertion is not a well-formed JWT (RFC 7519)")
	}
	return &claims, nil
}

// verifyAssertion checks the assertion of client id by the client's
// method.
func (a *Authenticator) verifyAssertion(ctx context.Context, id string, named bool, raw string) (store.Client, error) {
	c, err := a.lookup(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Client{}, oauth.InvalidClient("client authentication failed")
	case err != nil:
		return store.Client{}, err
	}
	switch c.AuthMethod() {
	case store.AuthMethodPrivateKeyJWT:
		err = a.verifySignedAssertion(ctx, c, raw)
	case store.AuthMethodServiceAccount:
		if !named {
			return store.Client{}, oauth.InvalidClient("client_id is required with a ServiceAccount token")
		}
		err = a.verifyServiceAccount(ctx, c, raw)
	default:
		err = oauth.InvalidClient("client authentication failed: the client does not authenticate with client assertions")
	}
	if err != nil {
		return store.Client{}, err
	}
	return c, nil
}

// verifySignedAssertion checks a private_key_jwt assertion (RFC 7523 §3,
// OpenID Connect Core §9): signed by one of the client's keys, iss and
// sub the client, aud this server, exp required and at most
// MaxAssertionLifetime ahead, nbf and iat honoured, and a jti not seen
// before, remembered in the store until exp so that every replica refuses
// a replay.
func (a *Authenticator) verifySignedAssertion(ctx context.Context, c store.Client, raw string) error {
	keys, err := a.keys.get(c)
	if err != nil {
		return oauth.InvalidClient("the client's registered keys are not usable").WithCause(err)
	}
	if len(a.Audiences) == 0 {
		return oauth.InvalidClient("this server accepts no client assertions")
	}
	now := clocks.Or(a.Clock).Now()
	var claims jwt.RegisteredClaims
	_, err = jwt.NewParser(
		jwt.WithValidMethods(signer.SupportedAlgs()), jwt.WithLeeway(a.Leeway), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithAudience(a.Audiences...),
	).ParseWithClaims(raw, &claims, keys.keyfunc)
	if err != nil {
		return assertionError(err)
	}
	switch exp := claims.ExpiresAt.Time; {
	case v1alpha1.CanonicalName(claims.Issuer) != c.ID || claims.Subject != claims.Issuer:
		return oauth.InvalidClient("client_assertion: iss and sub must both be the client ID (RFC 7523 section 3)")
	case exp.After(now.Add(MaxAssertionLifetime + a.Leeway)):
		return oauth.InvalidClient("client_assertion: exp is more than 5 minutes ahead")
	case claims.ID == "":
		return oauth.InvalidClient("client_assertion: jti is required")
	case len(claims.ID) > MaxJTIBytes:
		return oauth.InvalidClient("client_assertion: jti longer than 256 bytes")
	}
	// Remembered as long as the assertion is acceptable: its exp plus the
	// leeway. ':' is in no client ID, so the key names one (client, jti).
	first, err := a.Assertions.UseAssertion(ctx, c.ID+":"+claims.ID, claims.ExpiresAt.Add(a.Leeway), now)
	if err != nil {
		return oauth.StoreUnavailable(err)
	}
	if !first {
		return oauth.InvalidClient("client_assertion has been used before (its jti); make a new one for each request")
	}
	return nil
}

// assertionError describes why golang-jwt refused an assertion; the
// signature is checked before any claim.
func assertionError(err error) error {
	var desc string
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		desc = "client_assertion is not a well-formed JWT (RFC 7519)"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		desc = "client_assertion: no key of the client verifies its signature"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		desc = "client_assertion: exp and aud are required"
	case errors.Is(err, jwt.ErrTokenExpired):
		desc = "client_assertion has expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		desc = "client_assertion is not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		desc = "client_assertion: iat is in the future"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		desc = "client_assertion: aud must name this server: its issuer or the URL of the endpoint"
	default:
		desc = "client_assertion is not valid"
	}
	return oauth.InvalidClient(desc).WithCause(err)
}

// verifyServiceAccount checks a ServiceAccount client's assertion: a
// Kubernetes ServiceAccount token, which the cluster verifies (its
// audience, expiry and binding to a live pod), of the client's
// ServiceAccount, the very one (its UID) the registration was written
// for. There is no jti rule: the kubelet presents one projected token for
// its whole lifetime.
func (a *Authenticator) verifyServiceAccount(ctx context.Context, c store.Client, raw string) error {
	want := c.ServiceAccount
	switch {
	case a.ServiceAccounts == nil:
		return errNoServiceAccounts
	case want.UID == "":
		return oauth.InvalidClient("the client's ServiceAccount does not exist")
	}
	got, err := a.ServiceAccounts.VerifyServiceAccountToken(ctx, raw)
	switch {
	case errors.Is(err, ErrInvalidServiceAccountToken):
		return oauth.InvalidClient("the ServiceAccount token was refused").WithCause(err)
	case err != nil:
		return oauth.Unavailable("the ServiceAccount token cannot be verified now; retry later", oauth.StoreRetryAfter, err)
	case got.Namespace != want.Namespace || got.Name != want.Name || got.UID != want.UID:
		return oauth.InvalidClient("the ServiceAccount token is not the client's ServiceAccount's")
	}
	return nil
}
