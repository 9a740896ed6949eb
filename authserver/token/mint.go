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
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/authserver/audit"
	"github.com/authstack/authstack/authserver/session"
	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// DefaultRefreshTokenTTL is the lifetime of refresh tokens for clients that
// set none.
const DefaultRefreshTokenTTL = 24 * time.Hour

// AccessTokenIssuer mints access tokens.
type AccessTokenIssuer interface {
	IssueFor(r accesstoken.Request) (string, accesstoken.Claims, error)
}

// Minter issues the tokens of a successful grant: an access token and,
// for clients allowed the refresh_token grant, a refresh token of the same
// session.
type Minter struct {
	Tokens AccessTokenIssuer
	// IDTokens signs the ID token of a grant whose scopes hold "openid"
	// (OpenID Connect Core §3.1.3.3, §12.2); nil refuses such grants.
	IDTokens *IDTokenIssuer
	// Store holds the epoch the tokens carry.
	Store store.Epochs
	// DefaultAudience is used for clients that list no audiences.
	DefaultAudience []string
	// AccessTokenTTL and RefreshTokenTTL are used for clients that set none.
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// MaxAccessTokenTTL and MaxRefreshTokenTTL cap what a client's
	// registration asks for (whoever may write an AuthClient may not mint
	// ten-year tokens); MaxAccessTokenTTL itself is at most
	// accesstoken.MaxTTL, and zero means that constant, and
	// DefaultMaxRefreshTokenTTL.
	MaxAccessTokenTTL  time.Duration
	MaxRefreshTokenTTL time.Duration
	// MaxSessionLifetime is the longest a session lasts after the password
	// was entered, whatever its refreshes: the lifetime of clients that set
	// none, and the cap of those that do (DefaultMaxSessionLifetime when
	// zero).
	MaxSessionLifetime time.Duration
	// MaxSessionsPerUser bounds a user's live sessions (0: no bound); a new
	// one ends those beyond it, the soonest to expire first, with Revoker.
	// Without it, whoever knows one password could fill Redis with
	// sessions.
	MaxSessionsPerUser int
	Revoker            *session.Revoker
	// Audit, if set, records the sessions a login evicts.
	Audit *audit.Logger
	// Clock stamps the sessions; nil is the real clock.
	Clock clock.PassiveClock
}

// DefaultMaxSessionsPerUser bounds a user's live sessions unless configured
// otherwise: about 0.9 MB of Redis per user at most.
const DefaultMaxSessionsPerUser = 1000

// DefaultMaxRefreshTokenTTL caps refresh-token lifetimes unless configured
// otherwise: 30 days.
const DefaultMaxRefreshTokenTTL = 30 * 24 * time.Hour

// DefaultMaxSessionLifetime is the absolute session lifetime unless
// configured otherwise: 30 days after the login.
const DefaultMaxSessionLifetime = 30 * 24 * time.Hour

// Session is what a grant has established.
type Session struct {
	User   store.User
	Client store.Client
	Scopes []string
	// AuthTime is when the user's password was checked against the record
	// (the read of the record); Credential is that record's
	// store.CredentialMark. Both carry over to every token of the session.
	AuthTime   time.Time
	Credential int64
	// Epoch is the store epoch of the session's tokens: Mint sets the
	// store's for a login; a refresh carries its session's.
	Epoch string
}

// Epoch returns the store's epoch, writing one into a store without.
func (m *Minter) Epoch(ctx context.Context) (string, error) {
	e, err := m.Store.GetEpoch(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return m.Store.InitEpoch(ctx, rand.Text())
	}
	return e, err
}

// AccessTTL is the lifetime of c's access tokens, at most the configured
// maximum and never more than MaxAccessTokenTTL.
func (m *Minter) AccessTTL(c store.Client) time.Duration {
	ttl := m.AccessTokenTTL
	if c.AccessTokenTTL > 0 {
		ttl = c.AccessTokenTTL
	}
	limit := accesstoken.MaxTTL
	if m.MaxAccessTokenTTL > 0 {
		limit = min(limit, m.MaxAccessTokenTTL)
	}
	return min(ttl, limit)
}

// RefreshTTL is the lifetime of c's refresh tokens, at most the configured
// maximum.
func (m *Minter) RefreshTTL(c store.Client) time.Duration {
	ttl := m.RefreshTokenTTL
	if c.RefreshTokenTTL > 0 {
		ttl = c.RefreshTokenTTL
	}
	limit := m.MaxRefreshTokenTTL
	if limit <= 0 {
		limit = DefaultMaxRefreshTokenTTL
	}
	return min(ttl, limit)
}

// SessionLifetime is how long c's sessions last after the login, at most
// the configured maximum.
func (m *Minter) SessionLifetime(c store.Client) time.Duration {
	limit := m.MaxSessionLifetime
	if limit <= 0 {
		limit = DefaultMaxSessionLifetime
	}
	if c.SessionMaxLifetime > 0 {
		return min(c.SessionMaxLifetime, limit)
	}
	return limit
}

// Issue signs a login's tokens, in s.Epoch: an access token and, for a
// client allowed the refresh_token grant, the first refresh token of a new
// session, which it returns for the caller to store
// (store.Logins.FinishLogin) before the response goes out; nil without.
func (m *Minter) Issue(s Session) (*Response, *store.Session, error) {
	now := clocks.Or(m.Clock).Now()
	end := s.AuthTime.Add(m.SessionLifetime(s.Client))
	if !allowsGrant(s.Client, GrantRefreshToken) {
		// No refresh token, no stored session: its ID only names the
		// access token's session (sid).
		resp, _, err := m.access(s, accesstoken.NewID(), now, end)
		return resp, nil, err
	}
	rt := session.New()
	id := rt.ID()
	resp, accessExp, err := m.access(s, id, now, end)
	if err != nil {
		return nil, nil, err
	}
	resp.RefreshToken = rt.String()
	return resp, &store.Session{
		ID: id, ClientID: s.Client.ID, ClientSource: s.Client.Source, Username: s.User.Username, Scopes: s.Scopes,
		AuthTime: s.AuthTime, Credential: s.Credential, Epoch: s.Epoch, CreatedAt: now, ExpiresAt: end,
		TokenHash: rt.Hash(), TokenExpiresAt: m.refreshExpiry(s.Client, now, end), AccessExpiresAt: accessExp,
	}, nil
}

// evict ends the sessions a new one of username pushed beyond
// MaxSessionsPerUser.
func (m *Minter) evict(ctx context.Context, username string, evicted []string) error {
	now := clocks.Or(m.Clock).Now()
	for _, old := range evicted {
		// Its access tokens expire by now plus the longest lifetime at most.
		if err := m.Revoker.Revoke(ctx, old, now.Add(accesstoken.MaxTTL)); err != nil {
			return err
		}
		m.Audit.Record(ctx, audit.Event{Event: audit.Revocation, Outcome: audit.Success, Username: username, SessionID: old,
			Reason: evictedReason})
	}
	return nil
}

// evictedReason is why a login ended an older session of its user.
const evictedReason = "the user's session limit (--max-sessions-per-user) was reached"

// accessExpiry is when an access token of c issued at now expires: its
// lifetime, but never past its session's end.
func (m *Minter) accessExpiry(c store.Client, now, end time.Time) time.Time {
	exp := now.Truncate(time.Second).Add(m.AccessTTL(c))
	if exp.After(end) {
		return end
	}
	return exp
}

// refreshExpiry is when a refresh token of c issued at now expires: its
// lifetime, but never past its session's end.
func (m *Minter) refreshExpiry(c store.Client, now, end time.Time) time.Time {
	exp := now.Add(m.RefreshTTL(c))
	if exp.After(end) {
		return end
	}
	return exp
}

// access issues the access token of s in session id at now, living at most
// until the session's end, and returns the response and the token's exp.
func (m *Minter) access(s Session, id string, now, end time.Time) (*Response, time.Time, error) {
	resp, exp, err := m.issue(accesstoken.Request{
		Subject: s.User.Username, Username: s.User.Username, ClientID: s.Client.ID,
		Scopes: accessScopes(s.Scopes, s.User.Scopes), Groups: s.User.Groups,
		SessionID: id, Epoch: s.Epoch, AuthTime: s.AuthTime, Credential: s.Credential,
	}, s.Client, now, end)
	if err != nil {
		return nil, time.Time{}, err
	}
	if slices.Contains(s.Scopes, oauth.ScopeOpenID) {
		if m.IDTokens == nil {
			return nil, time.Time{}, oauth.InvalidScope("this server issues no ID tokens")
		}
		// The access token's iat and exp: both end together.
		if resp.IDToken, err = m.IDTokens.issue(s, id, now.Truncate(time.Second), exp); err != nil {
			return nil, time.Time{}, oauth.ServerError(fmt.Errorf("issue ID token: %w", err))
		}
	}
	return resp, exp, nil
}

// MintClient issues the access token of a client acting for itself (the
// client_credentials grant, RFC 6749 §4.4), in the store's current epoch:
// its sub is store.ClientSubject(c.ID), and it has no username, groups or
// session (no sid), nor a refresh token (§4.4.3). authTime and mark (the
// client record's store.CredentialMark) are what the revocation mirror
// judges it by against the client's state, as a user's token against the
// user's.
func (m *Minter) MintClient(ctx context.Context, c store.Client, scopes []string, authTime time.Time, mark int64) (*Response, error) {
	epoch, err := m.Epoch(ctx)
	if err != nil {
		return nil, oauth.StoreUnavailable(err)
	}
	now := clocks.Or(m.Clock).Now()
	resp, _, err := m.issue(accesstoken.Request{
		Subject: store.ClientSubject(c.ID), ClientID: c.ID, Scopes: scopes, Epoch: epoch, AuthTime: authTime, Credential: mark,
	}, c, now, now.Add(accesstoken.MaxTTL))
	return resp, err
}

// issue signs the access token r of client c at now, for c's audiences
// and lifetime but never past end, and returns the response and the
// token's exp.
func (m *Minter) issue(r accesstoken.Request, c store.Client, now, end time.Time) (*Response, time.Time, error) {
	r.Audience = c.Audiences
	if len(r.Audience) == 0 {
		r.Audience = m.DefaultAudience
	}
	exp := m.accessExpiry(c, now, end)
	r.TTL, r.IssuedAt = exp.Sub(now.Truncate(time.Second)), now
	if r.TTL <= 0 {
		return nil, time.Time{}, errBadRefreshToken.WithCause(errors.New("the session has ended"))
	}
	tok, _, err := m.Tokens.IssueFor(r)
	if err != nil {
		return nil, time.Time{}, oauth.ServerError(fmt.Errorf("issue access token: %w", err))
	}
	return &Response{
		AccessToken: tok,
		TokenType:   "Bearer",
		ExpiresIn:   int64(r.TTL / time.Second),
		Scope:       strings.Join(r.Scopes, " "),
		Subject:     r.Subject,
		ClientID:    c.ID,
		SessionID:   r.SessionID,
	}, exp, nil
}

// allowsGrant reports whether c may use grant type gt.
func allowsGrant(c store.Client, gt string) bool {
	allowed := c.GrantTypes
	if len(allowed) == 0 {
		allowed = defaultGrantTypes
	}
	return slices.Contains(allowed, gt)
}
