// Package store defines the one storage interface shared by the token server
// and the controller, and the plain value types it stores. Backends live in
// sub-packages (memory, redis) and are held to the same behaviour by the
// conformance suite in store/conformance.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them; callers compare with errors.Is.
var (
	// ErrNotFound is returned when a record does not exist (or has expired).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists is returned when creating a record whose key is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrUnavailable wraps every failure to reach the backend. The token
	// server answers 503 for it and never proceeds without the store.
	ErrUnavailable = errors.New("store unavailable")
	// ErrTokenReused is returned by UseRefreshToken when the token was
	// already used; the backend has revoked the whole family by then.
	ErrTokenReused = errors.New("refresh token reused")
)

// User is a credential record: what the token server needs to authenticate
// a resource owner. The controller writes it from an AuthUser and its Secret.
type User struct {
	Username string `json:"username"`
	// PasswordHash is an argon2id PHC string or a bcrypt hash.
	PasswordHash string   `json:"passwordHash"`
	Scopes       []string `json:"scopes,omitempty"`
	Groups       []string `json:"groups,omitempty"`
	Disabled     bool     `json:"disabled,omitempty"`
	// NotBefore rejects tokens issued before it (revokeTokensBefore,
	// password change). Zero means no such bound.
	NotBefore time.Time `json:"notBefore,omitempty"`
	// Source identifies the resource the record came from ("ns/name").
	Source string `json:"source,omitempty"`
	// SecretVersion is the resourceVersion of the Secret the hash came from,
	// so the controller does not re-hash an unchanged Secret.
	SecretVersion string `json:"secretVersion,omitempty"`
}

// Client is an OAuth 2.0 client registration.
type Client struct {
	ID string `json:"id"`
	// SecretHash is the hex SHA-256 of the client secret; empty for a public
	// client. Client secrets are high-entropy, so a fast hash is enough and
	// keeps client authentication off the password hashing budget.
	SecretHash      string        `json:"secretHash,omitempty"`
	GrantTypes      []string      `json:"grantTypes,omitempty"`
	Scopes          []string      `json:"scopes,omitempty"`
	Audiences       []string      `json:"audiences,omitempty"`
	AccessTokenTTL  time.Duration `json:"accessTokenTTL,omitempty"`
	RefreshTokenTTL time.Duration `json:"refreshTokenTTL,omitempty"`
	Source          string        `json:"source,omitempty"`
	// SecretVersion identifies the Secret (and its resourceVersion) the
	// secret hash came from, so the controller does not read it again.
	SecretVersion string `json:"secretVersion,omitempty"`
}

// Public reports whether the client has no secret.
func (c Client) Public() bool { return c.SecretHash == "" }

// RefreshToken is stored under the SHA-256 of the opaque token; the token
// itself is never stored.
type RefreshToken struct {
	// Hash is the hex SHA-256 of the opaque token value (the key).
	Hash string `json:"hash"`
	// Family groups a chain of rotated tokens; reuse revokes the family.
	Family    string    `json:"family"`
	ClientID  string    `json:"clientID"`
	Username  string    `json:"username"`
	Scopes    []string  `json:"scopes,omitempty"`
	IssuedAt  time.Time `json:"issuedAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// Used is set once the token has been exchanged (rotation).
	Used bool `json:"used,omitempty"`
}

// Store is what the token server and the controller share.
//
// Every method returns an error wrapping ErrUnavailable when the backend
// cannot be reached. Methods taking now use it instead of the wall clock so
// that expiry and throttling windows are testable; backends must not read
// the clock for those decisions.
type Store interface {
	// GetUser returns the record for username, or ErrNotFound.
	GetUser(ctx context.Context, username string) (User, error)
	// PutUser creates or replaces the record for u.Username.
	PutUser(ctx context.Context, u User) error
	// DeleteUser removes the record; deleting a missing record is not an error.
	DeleteUser(ctx context.Context, username string) error
	// DeleteUserFrom removes the record of username only if its Source is
	// source, atomically, and reports whether it did: the controller never
	// deletes a record that another resource has written meanwhile. A
	// record without a source is never deleted this way.
	DeleteUserFrom(ctx context.Context, username, source string) (bool, error)
	// ListUsers returns every user record, in no particular order.
	ListUsers(ctx context.Context) ([]User, error)

	GetClient(ctx context.Context, id string) (Client, error)
	PutClient(ctx context.Context, c Client) error
	DeleteClient(ctx context.Context, id string) error
	// DeleteClientFrom is DeleteUserFrom for client registrations.
	DeleteClientFrom(ctx context.Context, id, source string) (bool, error)
	ListClients(ctx context.Context) ([]Client, error)

	// CreateRefreshToken stores t; ErrAlreadyExists if t.Hash is taken.
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// UseRefreshToken atomically marks the token as used and returns it as
	// it was before. It returns ErrNotFound for unknown, expired (relative to
	// now) or revoked tokens, and ErrTokenReused (after revoking the whole
	// family) for a token that was already used.
	UseRefreshToken(ctx context.Context, hash string, now time.Time) (RefreshToken, error)
	// RevokeRefreshFamily makes every token of the family unusable.
	RevokeRefreshFamily(ctx context.Context, family string) error

	// RevokeAccessToken records jti as revoked until exp.
	RevokeAccessToken(ctx context.Context, jti string, exp time.Time) error
	// AccessTokenRevoked reports whether jti is revoked (as of now).
	AccessTokenRevoked(ctx context.Context, jti string, now time.Time) (bool, error)

	// AddAttempt adds one to the counter of key for the fixed window of the
	// given length that contains now, and returns the new count. Windows are
	// aligned to multiples of window since the Unix epoch.
	AddAttempt(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	// RemoveAttempt takes one back from the same counter (never below zero).
	RemoveAttempt(ctx context.Context, key string, window time.Duration, now time.Time) error

	// GetEpoch returns the store's epoch marker, or ErrNotFound when there is
	// none. The controller writes a fresh random marker into an empty store;
	// finding it gone means the store lost its data (a restart without
	// persistence, FLUSHALL, failover to an empty replica), and every record
	// must be rewritten from the Kubernetes resources.
	GetEpoch(ctx context.Context) (string, error)
	// InitEpoch sets the epoch marker to value unless one is set already, and
	// returns the marker in place afterwards (value, or the existing one).
	InitEpoch(ctx context.Context, value string) (string, error)

	// Ping checks that the backend is reachable.
	Ping(ctx context.Context) error
	// Close releases the backend's resources.
	Close() error
}

// HashClientSecret returns the stored form of a client secret: hex SHA-256.
func HashClientSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// WindowIndex numbers the throttle window of length w that contains now,
// counting from the Unix epoch (floored, so times before 1970 align too).
// Every backend and every replica computes the same index for one instant.
func WindowIndex(now time.Time, w time.Duration) int64 {
	n, d := now.UnixNano(), w.Nanoseconds()
	idx := n / d
	if n%d < 0 {
		idx--
	}
	return idx
}
