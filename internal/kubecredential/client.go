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

// Package kubecredential is kubectl's login to authstack: a client-go exec
// credential plugin that gets an access token with the password grant,
// keeps it and its refresh token in a cache file, refreshes it, and
// revokes it on logout; and the kubeconfig and kube-apiserver
// configuration that go with it.
package kubecredential

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
)

// Client logs one user in to one issuer through one OAuth 2.0 client.
type Client struct {
	Key
	// ClientSecret is empty for a public client (client_id only).
	ClientSecret string
	Scopes       []string
	// HTTP makes every request (NewHTTPClient).
	HTTP  *http.Client
	Cache *Cache
	// Password is asked for the password when a login needs one (no
	// cached session, or one the server refused).
	Password func() (string, error)
	// Clock says whether a cached token is still good; nil is the real
	// clock.
	Clock clock.PassiveClock
}

// Token returns an access token: the cached one while it is good, else
// one refreshed with the cached refresh token, else a new login with the
// password, the cache locked against other runs meanwhile. Only a refresh
// the server refused (invalid_grant: the session was revoked or ended)
// leads to the password; a server that cannot be reached or fails is
// reported.
func (c *Client) Token(ctx context.Context) (*Entry, error) {
	cached, err := c.Cache.Load(c.Key)
	if err != nil {
		return nil, err
	}
	if cached.good(clocks.Or(c.Clock).Now()) {
		return cached, nil
	}
	unlock, err := c.Cache.Lock(c.Key)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Another run may have refreshed while this one waited for the lock.
	if cached, err = c.Cache.Load(c.Key); err != nil {
		return nil, err
	}
	now := clocks.Or(c.Clock).Now()
	if cached.good(now) {
		return cached, nil
	}
	ep, err := Discover(ctx, c.HTTP, c.Issuer)
	if err != nil {
		return nil, err
	}
	cfg := c.config(ep)
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.HTTP)
	if cached != nil && cached.RefreshToken != "" {
		t, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: cached.RefreshToken}).Token()
		if err == nil {
			return c.save(t, now)
		}
		if !isInvalidGrant(err) {
			return nil, explainToken(err, c.ClientID)
		}
	}
	pw, err := c.Password()
	if err != nil {
		return nil, err
	}
	t, err := cfg.PasswordCredentialsToken(ctx, c.Username, pw)
	if err != nil {
		return nil, explainToken(err, c.ClientID)
	}
	return c.save(t, now)
}

// config is the oauth2 configuration of the client: its ID alone in the
// form for a public client, HTTP Basic with a secret (RFC 6749 §2.3.1).
func (c *Client) config(ep Endpoints) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if c.ClientSecret != "" {
		style = oauth2.AuthStyleInHeader
	}
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoint:     oauth2.Endpoint{TokenURL: ep.TokenEndpoint, AuthStyle: style},
		Scopes:       c.Scopes,
	}
}

// save caches the tokens of a grant asked for at now.
func (c *Client) save(t *oauth2.Token, now time.Time) (*Entry, error) {
	e := &Entry{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken}
	if t.ExpiresIn > 0 {
		lifetime := time.Duration(t.ExpiresIn) * time.Second
		e.Expiry = now.Add(lifetime - expiryMargin(lifetime))
	}
	if err := c.Cache.Save(c.Key, e); err != nil {
		return nil, err
	}
	return e, nil
}

// good reports whether e's access token may still be handed out at now.
// A token without an expiry is never reused.
func (e *Entry) good(now time.Time) bool {
	return e != nil && e.AccessToken != "" && !e.Expiry.IsZero() && now.Before(e.Expiry)
}

// expiryMargin is how long before its expiry an access token is no longer
// handed out, so that it does not expire on its way to the API server:
// maxExpiryMargin, or a quarter of a short lifetime.
func expiryMargin(lifetime time.Duration) time.Duration {
	return min(maxExpiryMargin, lifetime/4)
}

const maxExpiryMargin = 30 * time.Second
