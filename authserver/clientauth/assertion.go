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
	"fmt"
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

// authFailed is the one description of every refusal that depends on the
// registered client rather than on the assertion alone (no such client,
// one that does not use assertions, a signature none of its keys verifies,
// a ServiceAccount token the cluster refuses or that is another account's,
// a client the server cannot check): an anonymous caller learns neither
// whether a client exists nor how it authenticates. The reason is the
// error's Cause, for the log. A refusal depending only on what the caller
// sent (a malformed JWT, its alg or headers, and, once the signature is
// verified, its claims) says what is wrong.
const authFailed = "client authentication failed"

// refuse is the refusal authFailed, for the reason cause.
func refuse(cause error) *oauth.Error { return oauth.InvalidClient(authFailed).WithCause(cause) }

// errCannotCheck marks a refusal the caller is not to blame for: the
// server cannot check the client's credential (it verifies no
// ServiceAccount tokens, or the client's registered keys are unusable).
// It is not counted as a failed attempt on the throttle.
var errCannotCheck = errors.New("the server cannot check this client's credential")

// cannotCheck is the refusal authFailed for a reason that is the server's,
// not the caller's.
func cannotCheck(reason error) *oauth.Error {
	return refuse(fmt.Errorf("%w: %w", errCannotCheck, reason))
}

// checkAssertion authenticates the client of a client assertion: the one
// client_id names or, without it, the one the assertion's iss and sub
// name. Like a secret, the assertion is checked under the client's
// throttle: every refusal (a bad signature too: guessing one is hopeless,
// but a flood of them is not free) counts as a failed attempt, except one
// the server is to blame for (errCannotCheck).
func (a *Authenticator) checkAssertion(ctx context.Context, formID, raw string, ip netip.Addr) (store.Client, error) {
	id, p, err := assertionClientID(formID, raw)
	if err != nil {
		return store.Client{}, err
	}
	attempt, err := a.Limiter.Begin(ctx, "client:"+id, ip)
	if err != nil {
		return store.Client{}, throttle.Refusal(a.Metrics, err)
	}
	c, err := a.verifyAssertion(ctx, id, formID != "", raw, p)
	return c, settle(ctx, attempt, err)
}

// settle ends attempt by the outcome of its check: a refusal
// (invalid_client) is a failure; a check that could not be made (the
// store, the cluster, errCannotCheck) counts nothing.
func settle(ctx context.Context, attempt *throttle.Attempt, err error) error {
	switch {
	case err == nil:
		if err := attempt.Succeed(ctx); err != nil {
			return oauth.StoreUnavailable(err)
		}
		return nil
	case oauth.As(err).Code == oauth.CodeInvalidClient && !errors.Is(err, errCannotCheck):
		if err := attempt.Fail(ctx); err != nil {
			return oauth.StoreUnavailable(err)
		}
		return err
	}
	_ = attempt.Withdraw(ctx)
	return err
}

// assertionClientID returns the canonical ID of the client an assertion
// authenticates, and what the assertion says of itself: client_id when
// sent, else the iss of the assertion (read without verification, only to
// find the client; verification follows), which must equal its sub (RFC
// 7523 §3).
func assertionClientID(formID, raw string) (string, peeked, error) {
	if len(raw) > MaxAssertionBytes {
		return "", peeked{}, oauth.InvalidClient("client_assertion larger than 8192 bytes")
	}
	p, err := peek(raw)
	if err != nil {
		return "", peeked{}, err
	}
	id := formID
	switch {
	case id != "":
	case p.serviceAccount:
		return "", peeked{}, oauth.InvalidClient("client_id is required with a ServiceAccount token (its sub is not a client ID)")
	case p.claims.Issuer == "" || p.claims.Issuer != p.claims.Subject:
		return "", peeked{}, oauth.InvalidClient("client_assertion: iss and sub must both be the client ID (RFC 7523 section 3)")
	default:
		id = p.claims.Issuer
	}
	if !v1alpha1.ValidName(id) {
		// No client has this name (the CRD schema forbids it).
		return "", peeked{}, refuse(errors.New("not a client name"))
	}
	return v1alpha1.CanonicalName(id), p, nil
}

// peeked is what an assertion says of itself, before it is verified.
type peeked struct {
	// token is the decoded JWT, its claims claims: verifySignedAssertion
	// checks its signature and claims rather than decode it again.
	token  *jwt.Token
	claims jwt.RegisteredClaims
	// serviceAccount is set for a Kubernetes ServiceAccount token: its sub
	// is a ServiceAccount's, which is never a client ID (no client ID has
	// a ':'), so it can only authenticate a ServiceAccount client. The
	// cluster judges it (its TokenReview), not the private_key_jwt rules.
	serviceAccount bool
}

// peek decodes an assertion without verifying it, refusing what no
// verification could accept, whichever the client: a malformed JWT, alg
// none or HMAC; for a private_key_jwt assertion, an alg that is not one of
// signer.SupportedAlgs, a crit header (RFC 7515 §4.1.11: no extension is
// understood) or a typ other than a JWT's or a client assertion's (RFC 8725
// §3.11: an access token is not an assertion). A ServiceAccount token may
// have any asymmetric alg of the cluster's (ES512, PS256, ...).
func peek(raw string) (peeked, error) {
	p := peeked{}
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &p.claims)
	p.token = tok
	if err != nil && !errors.Is(err, jwt.ErrTokenUnverifiable) { // unverifiable: an unknown alg
		return peeked{}, oauth.InvalidClient("client_assertion is not a well-formed JWT (RFC 7519)")
	}
	alg, _ := tok.Header["alg"].(string)
	p.serviceAccount = strings.HasPrefix(p.claims.Subject, serviceAccountSubjectPrefix)
	if p.serviceAccount {
		if err != nil || alg == jwt.SigningMethodNone.Alg() || strings.HasPrefix(alg, "HS") {
			return peeked{}, oauth.InvalidClient("client_assertion: a ServiceAccount token is signed with an asymmetric algorithm, never none or HMAC")
		}
		return p, nil
	}
	_, crit := tok.Header["crit"]
	switch {
	case err != nil, !slices.Contains(signer.SupportedAlgs(), alg):
		return peeked{}, oauth.InvalidClient("client_assertion: alg must be one of " + strings.Join(signer.SupportedAlgs(), ", "))
	case crit:
		return peeked{}, oauth.InvalidClient("client_assertion: the crit header is not supported (RFC 7515 section 4.1.11)")
	case !assertionTyp(tok.Header["typ"]):
		return peeked{}, oauth.InvalidClient("client_assertion: typ must be JWT or client-authentication+jwt (RFC 8725 section 3.11)")
	}
	return p, nil
}

// assertionTyp reports whether typ, a header's value, is absent or names a
// JWT or a client assertion: "JWT" or "client-authentication+jwt", in any
// case, with or without "application/" (RFC 7515 §4.1.9).
func assertionTyp(typ any) bool {
	if typ == nil {
		return true
	}
	s, ok := typ.(string)
	s = strings.TrimPrefix(strings.ToLower(s), "application/")
	return ok && (s == "jwt" || s == "client-authentication+jwt")
}

// verifyAssertion checks the assertion of client id by the client's
// method.
func (a *Authenticator) verifyAssertion(ctx context.Context, id string, named bool, raw string, p peeked) (store.Client, error) {
	c, err := a.lookup(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Client{}, refuse(errors.New("no such client"))
	case err != nil:
		return store.Client{}, err
	}
	switch c.AuthMethod() {
	case store.AuthMethodPrivateKeyJWT:
		err = a.verifySignedAssertion(ctx, c, raw, p)
	case store.AuthMethodServiceAccount:
		err = a.verifyServiceAccount(ctx, c, named, raw)
	default:
		err = refuse(errors.New("the client does not authenticate with client assertions"))
	}
	if err != nil {
		return store.Client{}, err
	}
	return c, nil
}

// verifySignedAssertion checks a private_key_jwt assertion (RFC 7523 §3,
// OpenID Connect Core §9): signed by one of the client's keys, iss and
// sub the client, aud this server (one value: RFC 7523bis closes the
// audience injection an array of several would allow), exp required and at most
// MaxAssertionLifetime ahead, nbf and iat honoured, and a jti not seen
// before, remembered in the store until exp so that every replica refuses
// a replay.
func (a *Authenticator) verifySignedAssertion(ctx context.Context, c store.Client, raw string, p peeked) error {
	if p.serviceAccount {
		return refuse(errors.New("a ServiceAccount token for a private_key_jwt client"))
	}
	keys, err := a.keys.get(c)
	if err != nil {
		return cannotCheck(fmt.Errorf("the client's registered keys are not usable: %w", err))
	}
	if len(a.Audiences) == 0 {
		return cannotCheck(errors.New("this server accepts no client assertions (no audience)"))
	}
	if err := keys.verify(p.token, raw); err != nil {
		return refuse(fmt.Errorf("no key of the client verifies the signature: %w", err))
	}
	now := clocks.Or(a.Clock).Now()
	claims := p.claims
	err = jwt.NewValidator( // the claims of the token verified, decoded once by peek
		jwt.WithLeeway(a.Leeway), jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithAudience(a.Audiences...),
	).Validate(claims)
	if err != nil {
		return assertionError(err)
	}
	switch exp := claims.ExpiresAt.Time; {
	case len(claims.Audience) != 1:
		return oauth.InvalidClient("client_assertion: aud must be a single value, this server's issuer or the endpoint's URL")
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

// assertionError describes why golang-jwt's validator refused the claims
// of an assertion; the signature is checked before any claim, so only a
// caller holding one of the client's keys learns what is wrong with them.
func assertionError(err error) error {
	var desc string
	switch {
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
// its whole lifetime. The cluster is asked before the registration is
// compared, so that a registration naming no existing account (no UID) is
// refused as any other account's token is.
func (a *Authenticator) verifyServiceAccount(ctx context.Context, c store.Client, named bool, raw string) error {
	switch {
	case a.ServiceAccounts == nil:
		return cannotCheck(errors.New("ServiceAccount tokens are not accepted by this server (--service-account-clients)"))
	case !named:
		return refuse(errors.New("a ServiceAccount client's assertion without client_id"))
	}
	got, err := a.ServiceAccounts.VerifyServiceAccountToken(ctx, raw)
	want := c.ServiceAccount
	switch {
	case errors.Is(err, ErrInvalidServiceAccountToken):
		return refuse(err)
	case err != nil:
		return oauth.Unavailable("the ServiceAccount token cannot be verified now; retry later", oauth.StoreRetryAfter, err)
	case want.UID == "":
		return refuse(errors.New("the client's ServiceAccount does not exist (its record has no UID)"))
	case got != ServiceAccountIdentity{Namespace: want.Namespace, Name: want.Name, UID: want.UID}:
		return refuse(errors.New("the ServiceAccount token is another ServiceAccount's"))
	}
	return nil
}
