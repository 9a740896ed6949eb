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

// Package clientauth authenticates the client of a request to the token,
// revocation and introspection endpoints (RFC 6749 §2.3): HTTP Basic,
// client_secret_post, a client assertion (private_key_jwt, RFC 7523; or a
// Kubernetes ServiceAccount token), or a public client naming itself,
// throttled like a password.
package clientauth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Authenticator authenticates the client of a token request (RFC 6749
// §2.3): HTTP Basic (client_secret_basic), client_secret_post, a client
// assertion (private_key_jwt, or the Kubernetes ServiceAccount token of a
// client naming a ServiceAccount), or a public client naming itself with
// client_id. A request with no client at all uses the default public
// client, when one is configured.
type Authenticator struct {
	Clients store.Clients
	// Limiter counts failed client secrets and assertions per client and
	// address (RFC 6749 §2.3.1: endpoints taking a client password MUST
	// resist brute force).
	Limiter *throttle.Limiter
	Metrics *metrics.Metrics
	// DefaultClient is used for requests that name no client. Its ID is
	// looked up in the store first, so an AuthClient of that name overrides
	// this built-in definition. An empty ID disables client-less requests.
	DefaultClient store.Client
	// Assertions remembers the jti of every private_key_jwt assertion
	// accepted, until it expires, so that each is accepted once by every
	// replica (RFC 7523 §3).
	Assertions store.Assertions
	// Audiences are the values identifying this server that a
	// private_key_jwt assertion's aud must hold one of: the issuer and the
	// URLs of the endpoints that authenticate clients (RFC 7523 §3). None
	// refuses every such assertion.
	Audiences []string
	// ServiceAccounts verifies the ServiceAccount tokens of clients naming
	// a Kubernetes ServiceAccount; nil refuses those clients.
	ServiceAccounts ServiceAccountVerifier
	// Leeway is the clock-skew allowance for an assertion's exp, nbf and
	// iat.
	Leeway time.Duration
	// Clock judges assertions' times; nil is the real clock.
	Clock clock.PassiveClock

	keys keyCache
}

// Authenticate returns the authenticated client. Failures are invalid_client
// (401 with a Basic challenge) or invalid_request for malformed credentials;
// a store outage is a 503.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request, form oauth.Form, ip netip.Addr) (store.Client, error) {
	id, secret, method, err := clientCredentials(r, form)
	if err != nil {
		return store.Client{}, err
	}
	if named, ok := a.named(id, method); ok {
		c, err := a.Clients.GetClient(ctx, named)
		return a.JudgeNamed(named, c, err)
	}
	switch method {
	case methodAssertion:
		return a.checkAssertion(ctx, id, secret, ip)
	case "client_secret_basic":
		c, err := a.checkSecret(ctx, v1alpha1.CanonicalName(id), secret, ip)
		if err != nil && strings.Contains(secret, " ") {
			err = withHint(err, hintPlus)
		}
		return c, err
	case "client_secret_post":
		return a.checkSecret(ctx, v1alpha1.CanonicalName(id), secret, ip)
	}
	// No client named, and no default client.
	return store.Client{}, oauth.InvalidClient("client authentication required")
}

// Named returns the ID of the client of a request that authenticates by
// naming itself: a public client's client_id, or the default client for a
// request that names no client. Its authentication is JudgeNamed of its
// registration, which a caller may read together with other records
// (nothing is written for it). ok is false for every other request, which
// only Authenticate authenticates: one presenting a credential, one whose
// credentials are malformed, one naming no client without a default
// client.
func (a *Authenticator) Named(r *http.Request, form oauth.Form) (id string, ok bool) {
	id, _, method, err := clientCredentials(r, form)
	if err != nil {
		return "", false
	}
	return a.named(id, method)
}

// named is Named of the credentials clientCredentials extracted.
func (a *Authenticator) named(id, method string) (string, bool) {
	switch {
	case method == "none":
		return v1alpha1.CanonicalName(id), true // client IDs are case-insensitive, as usernames
	case method == "" && a.DefaultClient.ID != "":
		return a.DefaultClient.ID, true
	}
	return "", false
}

// JudgeNamed authenticates the client id that names itself (Named) from
// its registration as GetClient read it (c, or err): a public client
// authenticates by naming itself, one with a credential must present it,
// and an unknown one is refused. The default client's built-in definition
// is used unless the store holds a client of that ID. A store outage is a
// 503.
func (a *Authenticator) JudgeNamed(id string, c store.Client, err error) (store.Client, error) {
	switch {
	case errors.Is(err, store.ErrNotFound) && id == a.DefaultClient.ID:
		return a.DefaultClient, nil
	case errors.Is(err, store.ErrNotFound):
		return store.Client{}, oauth.InvalidClient("client authentication failed")
	case err != nil:
		return store.Client{}, oauth.StoreUnavailable(err)
	case !c.Public():
		return store.Client{}, oauth.InvalidClient("client authentication required")
	}
	return c, nil
}

// checkSecret authenticates a confidential client by its secret. Like a
// password, a secret is reserved on the throttle before it is compared, so
// concurrent guesses never exceed the limit, and released when it matches,
// so a client's own concurrent requests are never counted (an attempt that
// finds the limit filled only by requests in flight waits for one of them:
// a comparison is one SHA-256). A client over the limit is refused before
// its secret is compared, so it is not told whether the secret was right.
func (a *Authenticator) checkSecret(ctx context.Context, id, secret string, ip netip.Addr) (store.Client, error) {
	attempt, err := a.Limiter.Begin(ctx, "client:"+id, ip)
	if err != nil {
		return store.Client{}, throttle.Refusal(a.Metrics, err)
	}
	c, err := a.lookup(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		_ = attempt.Withdraw(ctx)
		return store.Client{}, err
	}
	// An unknown client spends the same (small) work as a real comparison;
	// a client without a secret (a public one, or one that authenticates
	// with an assertion) has none to check, and presenting one is a failed
	// attempt rather than something to ignore.
	hasSecret := err == nil && c.AuthMethod() == store.AuthMethodSecret
	want := c.SecretHash
	if !hasSecret {
		want = store.HashClientSecret("")
	}
	ok := subtle.ConstantTimeCompare([]byte(store.HashClientSecret(secret)), []byte(want)) == 1
	if !hasSecret || !ok {
		if err := attempt.Fail(ctx); err != nil {
			return store.Client{}, oauth.StoreUnavailable(err)
		}
		return store.Client{}, oauth.InvalidClient("client authentication failed")
	}
	if err := attempt.Succeed(ctx); err != nil {
		return store.Client{}, oauth.StoreUnavailable(err)
	}
	return c, nil
}

func (a *Authenticator) lookup(ctx context.Context, id string) (store.Client, error) {
	c, err := a.Clients.GetClient(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Client{}, oauth.StoreUnavailable(err)
	}
	return c, err
}

// Hints added to invalid_client for HTTP Basic credentials that were
// probably not form-encoded (RFC 6749 §2.3.1), as curl -u and most HTTP
// libraries send them: a '+' arrives as a space and a '%' starts an escape.
// They depend on the presented credentials only, never on whether the
// client exists or what its secret is.
const (
	hintPlus    = "client credentials in HTTP Basic are form-encoded (RFC 6749 section 2.3.1): a '+' in a secret must be sent as %2B"
	hintPercent = "client credentials in HTTP Basic are form-encoded (RFC 6749 section 2.3.1): a '%' must be sent as %25"
)

// withHint appends hint to the description of an invalid_client error;
// any other error (429, 503) is returned as it is.
func withHint(err error, hint string) error {
	e := oauth.As(err)
	if e.Code != oauth.CodeInvalidClient {
		return err
	}
	c := *e
	c.Description += "; " + hint
	return &c
}

// methodAssertion is clientCredentials' method of a client assertion.
const methodAssertion = "client_assertion"

// clientCredentials extracts the client's credentials and the method used:
// "client_secret_basic", "client_secret_post", "none" (client_id only),
// methodAssertion (secret is then the assertion, id the client_id if sent)
// or "" (no client named). Using two methods at once is invalid_request
// (RFC 6749 §2.3), but invalid_client when one is an assertion (RFC 7521
// §4.2.1).
func clientCredentials(r *http.Request, form oauth.Form) (id, secret, method string, err error) {
	formID, formSecret := form.Get("client_id"), form.Get("client_secret")
	if len(r.Header.Values("Authorization")) > 1 {
		// Refused, as the bearer endpoints refuse it.
		return "", "", "", oauth.InvalidRequest(accesstoken.ErrRepeatedAuthorization.Error())
	}
	if assertionType, assertion := form.Get(paramAssertionType), form.Get(paramAssertion); assertionType != "" || assertion != "" {
		switch {
		case r.Header.Get("Authorization") != "" || formSecret != "":
			return "", "", "", oauth.InvalidClient("more than one client authentication method")
		case assertionType == "":
			return "", "", "", oauth.InvalidRequest("missing parameter: " + paramAssertionType)
		case assertionType != AssertionType:
			return "", "", "", oauth.InvalidClient("unsupported client_assertion_type; use " + AssertionType)
		case assertion == "":
			return "", "", "", oauth.InvalidClient("missing or empty client_assertion")
		}
		return formID, assertion, methodAssertion, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, payload, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return "", "", "", oauth.InvalidClient("unsupported client authentication scheme")
		}
		raw, derr := base64.StdEncoding.DecodeString(strings.TrimSpace(payload))
		if derr != nil {
			return "", "", "", oauth.InvalidClient("malformed basic credentials")
		}
		u, p, ok := strings.Cut(string(raw), ":")
		if !ok {
			return "", "", "", oauth.InvalidClient("malformed basic credentials")
		}
		// RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
		if id, err = url.QueryUnescape(u); err != nil {
			return "", "", "", withHint(oauth.InvalidClient("malformed basic credentials"), hintPercent)
		}
		if secret, err = url.QueryUnescape(p); err != nil {
			return "", "", "", withHint(oauth.InvalidClient("malformed basic credentials"), hintPercent)
		}
		if formSecret != "" {
			return "", "", "", oauth.InvalidRequest("more than one client authentication method")
		}
		if formID != "" && formID != id {
			return "", "", "", oauth.InvalidRequest("client_id does not match the authenticated client")
		}
		if id == "" {
			return "", "", "", oauth.InvalidClient("malformed basic credentials")
		}
		if secret == "" {
			// A public client naming itself in Basic with an empty password
			// (RFC 6749 §2.3.1 lets a client send its client_id there;
			// requests-oauthlib and others do): no secret was presented, so
			// none is checked or counted against the throttle.
			return id, "", "none", nil
		}
		return id, secret, "client_secret_basic", nil
	}
	switch {
	case formSecret != "" && formID == "":
		return "", "", "", oauth.InvalidRequest("client_secret without client_id")
	case formSecret != "":
		return formID, formSecret, "client_secret_post", nil
	case formID != "":
		return formID, "", "none", nil
	}
	return "", "", "", nil
}
