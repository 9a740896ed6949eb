package token

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authstack/authstack/authserver/accesstoken"
	"github.com/authstack/authstack/authserver/oauth"
	"github.com/authstack/authstack/authserver/store"
)

// DefaultRefreshTokenTTL is the lifetime of refresh tokens for clients that
// set none.
const DefaultRefreshTokenTTL = 24 * time.Hour

// AccessTokenIssuer mints access tokens.
type AccessTokenIssuer interface {
	IssueFor(r accesstoken.Request) (string, accesstoken.Claims, error)
}

// MintStore is the part of the store minting needs.
type MintStore interface {
	CreateRefreshToken(ctx context.Context, t store.RefreshToken) error
	GetEpoch(ctx context.Context) (string, error)
	InitEpoch(ctx context.Context, value string) (string, error)
}

// Minter issues the tokens of a successful grant: an access token and,
// for clients allowed the refresh_token grant, a refresh token of the same
// session.
type Minter struct {
	Tokens AccessTokenIssuer
	Store  MintStore
	// DefaultAudience is used for clients that list no audiences.
	DefaultAudience []string
	// AccessTokenTTL and RefreshTokenTTL are used for clients that set none.
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// MaxAccessTokenTTL and MaxRefreshTokenTTL cap what a client's
	// registration asks for (whoever may write an AuthClient may not mint
	// ten-year tokens); MaxAccessTokenTTL itself is at most the constant
	// of that name, and zero means that constant, and DefaultMaxRefreshTokenTTL.
	MaxAccessTokenTTL  time.Duration
	MaxRefreshTokenTTL time.Duration
	Now                func() time.Time
}

// DefaultMaxRefreshTokenTTL caps refresh-token lifetimes unless configured
// otherwise: 30 days.
const DefaultMaxRefreshTokenTTL = 30 * 24 * time.Hour

// Session is what a grant has established.
type Session struct {
	User   store.User
	Client store.Client
	Scopes []string
	// ID is the session (refresh-token family); empty starts a new one.
	ID string
	// AuthTime is when the user's password was checked against the record
	// (the read of the record); Credential is that record's
	// store.CredentialMark. Both carry over to every token of the session.
	AuthTime   time.Time
	Credential int64
	Epoch      string
}

// Epoch returns the store's epoch, writing one into a store without.
func (m *Minter) Epoch(ctx context.Context) (string, error) {
	e, err := m.Store.GetEpoch(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return m.Store.InitEpoch(ctx, rand.Text())
	}
	return e, err
}

// MaxAccessTokenTTL caps every access token's lifetime. A revoked session
// is remembered this long (plus margins), so that no access token of it can
// outlive its revocation, whatever client or setting issued it.
const MaxAccessTokenTTL = 24 * time.Hour

// AccessTTL is the lifetime of c's access tokens, at most the configured
// maximum and never more than MaxAccessTokenTTL.
func (m *Minter) AccessTTL(c store.Client) time.Duration {
	ttl := m.AccessTokenTTL
	if c.AccessTokenTTL > 0 {
		ttl = c.AccessTokenTTL
	}
	limit := MaxAccessTokenTTL
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

// Mint issues the tokens of s.
func (m *Minter) Mint(ctx context.Context, s Session) (*Response, error) {
	if s.ID == "" {
		s.ID = accesstoken.NewID()
	}
	aud := s.Client.Audiences
	if len(aud) == 0 {
		aud = m.DefaultAudience
	}
	ttl := m.AccessTTL(s.Client)
	tok, claims, err := m.Tokens.IssueFor(accesstoken.Request{
		Subject: s.User.Username, ClientID: s.Client.ID, Audience: aud, Scopes: s.Scopes, Groups: s.User.Groups,
		TTL: ttl, SessionID: s.ID, Epoch: s.Epoch, AuthTime: s.AuthTime, Credential: s.Credential,
	})
	if err != nil {
		return nil, oauth.ServerError(fmt.Errorf("issue access token: %w", err))
	}
	resp := &Response{
		AccessToken: tok,
		TokenType:   "Bearer",
		ExpiresIn:   int64(ttl / time.Second),
		Scope:       strings.Join(s.Scopes, " "),
		Subject:     s.User.Username,
		ClientID:    s.Client.ID,
	}
	if !allowsGrant(s.Client, GrantRefreshToken) {
		return resp, nil
	}
	if s.AuthTime.IsZero() {
		s.AuthTime = claims.IssuedAt.Time
	}
	raw, hash := newRefreshToken()
	rttl := m.RefreshTTL(s.Client)
	now := m.Now()
	err = m.Store.CreateRefreshToken(ctx, store.RefreshToken{
		Hash: hash, Family: s.ID, ClientID: s.Client.ID, Username: s.User.Username, Scopes: s.Scopes,
		IssuedAt: now, ExpiresAt: now.Add(rttl), AuthTime: s.AuthTime, Credential: s.Credential, Epoch: s.Epoch,
	})
	if err != nil {
		// No half answer: a client that expects a refresh token and gets
		// none would log the user in again soon anyway.
		return nil, oauth.Unavailable("store unavailable", retryAfterStore, err)
	}
	resp.RefreshToken = raw
	return resp, nil
}

// allowsGrant reports whether c may use grant type gt.
func allowsGrant(c store.Client, gt string) bool {
	allowed := c.GrantTypes
	if len(allowed) == 0 {
		allowed = defaultGrantTypes
	}
	return slices.Contains(allowed, gt)
}

// refreshTokenBytes is the entropy of a refresh token: 256 bits.
const refreshTokenBytes = 32

// newRefreshToken returns an opaque refresh token and its stored form.
func newRefreshToken() (raw, hash string) {
	b := make([]byte, refreshTokenBytes)
	rand.Read(b) // never fails (crypto/rand crashes the program instead)
	raw = base64.RawURLEncoding.EncodeToString(b)
	return raw, HashRefreshToken(raw)
}

// HashRefreshToken is the stored form of a refresh token: hex SHA-256. The
// token carries 256 random bits, so a fast hash protects it.
func HashRefreshToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}
