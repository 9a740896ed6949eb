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
	"fmt"
	"strings"
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
	// ErrTokenReused is returned by RotateSession when the refresh token
	// presented is of an earlier generation (used already); the backend has
	// revoked the session by then.
	ErrTokenReused = errors.New("refresh token reused")
	// ErrRateLimited is returned by RotateSession when the session was
	// refreshed too often in the current window; nothing changed. It is
	// wrapped by a *RateLimitError, which says when to retry.
	ErrRateLimited = errors.New("refreshed too often")
	// ErrFeedReset is returned by ReadRevocations when the changes after a
	// cursor can no longer be read in order: the epoch changed (or is gone)
	// or the change log was trimmed past the cursor. The reader loads the
	// whole state again with LoadRevocations.
	ErrFeedReset = errors.New("revocation feed reset")
	// ErrRolledBack is returned by ReadRevocations when the store holds
	// fewer changes than the reader has already seen: it went back in time
	// (restored from an old snapshot, or a failover to a replica that had
	// not received the last writes). Revocations may have been lost, so the
	// reader replaces the epoch, which rejects every token issued before.
	ErrRolledBack = errors.New("store rolled back")
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

// State returns what validating the user's tokens needs of the record.
func (u User) State() UserState { return UserState{NotBefore: u.NotBefore, Disabled: u.Disabled} }

// UserState is the part of a user record that decides whether the user's
// tokens are still good. A user without a state (no record) has none.
type UserState struct {
	NotBefore time.Time
	Disabled  bool
}

// Equal reports whether two states reject the same tokens.
func (s UserState) Equal(o UserState) bool {
	return s.Disabled == o.Disabled && s.NotBefore.Equal(o.NotBefore)
}

// CredentialMark identifies the version of a user record a password was
// checked against: its not-before, in Unix milliseconds, and at least 1 (a
// record without one). The not-before moves forward, by at least a
// millisecond, whenever the user's sessions must end (a password change, a
// disable, revokeTokensBefore, a new record), so a session whose mark is
// older than the user's current not-before was authenticated against a
// credential that has been superseded, however the clocks of the writer
// and the token server compare. Tokens and refresh tokens carry it; 0
// means a token issued before marks existed.
func CredentialMark(notBefore time.Time) int64 {
	if notBefore.IsZero() {
		return 1
	}
	return max(notBefore.UnixMilli(), 1)
}

// Ends reports whether the state ends a session that was authenticated at
// authTime against the record version mark (CredentialMark). It does when
// the user is disabled, when the not-before has moved past the mark (the
// credential was superseded while, or after, it was checked), or when the
// not-before is in a later second than authTime (revokeTokensBefore in
// the future: nothing authenticated before it counts). A session without a
// mark is judged by time alone, as before marks existed: its authTime must
// be after the not-before's second.
func (s UserState) Ends(authTime time.Time, mark int64) bool {
	switch {
	case s.Disabled:
		return true
	case s.NotBefore.IsZero():
		return false
	}
	nb, at := s.NotBefore.Truncate(time.Second), authTime.Truncate(time.Second)
	if mark == 0 {
		return !at.After(nb)
	}
	return s.NotBefore.UnixMilli() > mark || nb.After(at)
}

// RevocationEvent is one change of the revocation state, or one piece of
// it when the state is loaded whole. Exactly one of JTI, Grant and Username
// is set.
type RevocationEvent struct {
	// JTI is an access token revoked until Until (its exp).
	JTI string
	// Grant is a grant (a refresh-token session, the "sid" of the access
	// tokens issued from it) all of whose tokens are revoked until Until.
	Grant string
	// Until is when the revocation may be forgotten, to the millisecond.
	Until time.Time
	// Username names a user whose state is now User; a nil User means the
	// user no longer exists.
	Username string
	User     *UserState
	// Written is when the change was written to the change log, by the
	// store's clock (Redis: its stream entry's ID, a millisecond
	// timestamp), for measuring how long changes take to reach the
	// mirrors. ReadRevocations sets it; it is zero for the pieces of
	// LoadRevocations, which are not changes.
	Written time.Time
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
	// SessionMaxLifetime bounds a session (a login and its refreshes) after
	// the login; the server's maximum when zero, and at most that.
	SessionMaxLifetime time.Duration `json:"sessionMaxLifetime,omitempty"`
	Source             string        `json:"source,omitempty"`
	// SecretVersion identifies what the client's credential (secret hash,
	// key set or service account) was read from, and its resourceVersion,
	// so the controller does not read it again.
	SecretVersion string `json:"secretVersion,omitempty"`
	// JWKS is the JSON Web Key Set (RFC 7517) of the public keys whose
	// assertions authenticate the client (private_key_jwt, RFC 7523 §2.2);
	// empty unless the client authenticates that way.
	JWKS string `json:"jwks,omitempty"`
	// ServiceAccount, when set, is the Kubernetes ServiceAccount whose
	// tokens authenticate the client.
	ServiceAccount *ServiceAccount `json:"serviceAccount,omitempty"`
	// NotBefore refuses the tokens issued to the client itself (the
	// client_credentials grant) before it, as a user's NotBefore does:
	// it moves when the client's credential changes. The client's state in
	// the revocation feed, under ClientSubject(ID).
	NotBefore time.Time `json:"notBefore,omitempty"`
}

// ServiceAccount names a Kubernetes ServiceAccount, and the UID of the one
// of that name the registration was written for: a ServiceAccount deleted
// and created again under the same name is another account.
type ServiceAccount struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// UID is empty while no such ServiceAccount exists, which no token
	// matches.
	UID string `json:"uid,omitempty"`
}

// Client authentication methods (the token_endpoint_auth_method values of
// RFC 7591 §2, and authstack's own for ServiceAccount tokens).
const (
	AuthMethodNone           = "none"
	AuthMethodSecret         = "client_secret"
	AuthMethodPrivateKeyJWT  = "private_key_jwt"
	AuthMethodServiceAccount = "kubernetes_service_account"
)

// AuthMethod is how the client authenticates: by a secret, a signed
// assertion, a ServiceAccount token, or (a public client) by naming itself.
func (c Client) AuthMethod() string {
	switch {
	case c.SecretHash != "":
		return AuthMethodSecret
	case c.JWKS != "":
		return AuthMethodPrivateKeyJWT
	case c.ServiceAccount != nil:
		return AuthMethodServiceAccount
	}
	return AuthMethodNone
}

// Public reports whether the client has no credential and authenticates
// by naming itself.
func (c Client) Public() bool { return c.AuthMethod() == AuthMethodNone }

// State is the client's state as the revocation feed carries it, under
// ClientSubject(c.ID).
func (c Client) State() UserState { return UserState{NotBefore: c.NotBefore} }

// ClientSubject is the subject of tokens issued to the client itself (the
// client_credentials grant), and its name in the revocation feed: ':' is
// in no username, so it never names a user.
func ClientSubject(id string) string { return clientSubjectPrefix + id }

// IsClientSubject reports whether a token's sub is a client's own
// (ClientSubject): the token has no user.
func IsClientSubject(sub string) bool { return strings.HasPrefix(sub, clientSubjectPrefix) }

const clientSubjectPrefix = "client:"

// Session is a refresh-token session: one password login and the refresh
// tokens rotated from it, kept as one record whatever the number of
// rotations. Its refresh tokens carry the session's secret ID, a
// generation and a secret (token.ParseRefreshToken); only the SHA-256 of the
// current generation's secret is stored. A token of an earlier generation
// is a used one: presenting it revokes the session (RFC 9700 §4.14.2).
type Session struct {
	// ID is the store's key: the "sid" claim of the session's access
	// tokens, derived one-way from the secret ID its refresh tokens carry,
	// so that knowing an access token does not let anyone make a refresh
	// token of its session.
	ID       string `json:"id"`
	ClientID string `json:"clientID"`
	// ClientSource is the Source of the client registration the session
	// was started with: a session does not pass to another registration
	// of the same client ID.
	ClientSource string   `json:"clientSource,omitempty"`
	Username     string   `json:"username"`
	Scopes       []string `json:"scopes,omitempty"`
	// AuthTime is when the user authenticated with a password (when the
	// record the password was checked against was read); Credential is
	// that record's CredentialMark, 0 for a session stored before marks
	// existed.
	AuthTime   time.Time `json:"authTime"`
	Credential int64     `json:"credential,omitempty"`
	// Epoch is the store epoch the session was started in: after the store
	// lost data, a session from an earlier epoch is refused.
	Epoch     string    `json:"epoch,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// ExpiresAt is the session's absolute end (its client's maximum
	// session lifetime after AuthTime): no refresh token outlives it.
	ExpiresAt time.Time `json:"expiresAt"`

	// Generation is the current refresh token's; TokenHash the hex SHA-256
	// of its secret; TokenExpiresAt when it stops working.
	Generation     uint64    `json:"generation"`
	TokenHash      string    `json:"tokenHash"`
	TokenExpiresAt time.Time `json:"tokenExpiresAt"`
	// AccessExpiresAt is the latest exp of an access token issued in the
	// session: revoking the session must outlast it.
	AccessExpiresAt time.Time `json:"accessExpiresAt"`
	// Revoked is set once the session is revoked; a revoked session is kept
	// until its access tokens have expired.
	Revoked bool `json:"revoked,omitempty"`
}

// Rotation is one exchange of a session's refresh token (RotateSession).
type Rotation struct {
	// Generation and TokenHash are the presented token's.
	Generation uint64
	TokenHash  string
	// NextHash and NextExpiresAt are the new token's; AccessExpiresAt is
	// the exp of the access token issued with it.
	NextHash        string
	NextExpiresAt   time.Time
	AccessExpiresAt time.Time
	// MaxPerWindow rotations are allowed per Window (windows aligned as
	// WindowIndex aligns them); 0 is no limit.
	MaxPerWindow int64
	Window       time.Duration
}

// RateLimitError says when a rate-limited rotation may be retried.
type RateLimitError struct{ RetryAfter time.Duration }

func (e *RateLimitError) Error() string {
	return ErrRateLimited.Error() + "; retry after " + e.RetryAfter.String()
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// Store is what the token server and the controller share: the role
// interfaces below, each of which a consumer takes alone when it needs no
// more (fosite's CoreStorage is composed the same way).
//
// Every method returns an error wrapping ErrUnavailable when the backend
// cannot be reached. Methods taking now use it instead of the wall clock so
// that expiry and throttling windows are testable; backends must not read
// the clock for those decisions.
type Store interface {
	Users
	Clients
	Assertions
	Sessions
	Revocations
	Counters
	Epochs
	Logins
	Refreshes
	Activity

	// Ping checks that the backend is reachable.
	Ping(ctx context.Context) error
	// Close releases the backend's resources.
	Close() error
}

// Users are the credential records of AuthUsers.
type Users interface {
	// GetUser returns the record for username, or ErrNotFound.
	GetUser(ctx context.Context, username string) (User, error)
	// PutUser creates or replaces the record for u.Username.
	PutUser(ctx context.Context, u User) error
	// DeleteUserFrom removes the record of username only if its Source is
	// source, atomically, and reports whether it did: the controller never
	// deletes a record that another resource has written meanwhile. A
	// record without a source is never deleted this way.
	DeleteUserFrom(ctx context.Context, username, source string) (bool, error)
	// ListUsers returns every user record, in no particular order.
	ListUsers(ctx context.Context) ([]User, error)
}

// Clients are the registrations of AuthClients.
type Clients interface {
	GetClient(ctx context.Context, id string) (Client, error)
	PutClient(ctx context.Context, c Client) error
	// DeleteClientFrom is DeleteUserFrom for client registrations.
	DeleteClientFrom(ctx context.Context, id, source string) (bool, error)
	ListClients(ctx context.Context) ([]Client, error)
}

// Sessions are the refresh-token sessions and each user's index of them.
type Sessions interface {
	// CreateSession stores a new session; ErrAlreadyExists if its ID is
	// taken.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session, or ErrNotFound when it is unknown. It
	// is kept, revoked or not, until its refresh token and its access
	// tokens have all expired (callers judge TokenExpiresAt), so that a
	// session whose refresh token expired can still be revoked while its
	// access tokens live.
	GetSession(ctx context.Context, id string) (Session, error)
	// RotateSession exchanges the session's current refresh token for the
	// next one, atomically, and returns the session as it was before. It
	// returns ErrNotFound for an unknown, expired or revoked session (with
	// the session, Revoked set, for a revoked one) and for a token that is
	// not the current one's (a later generation, or the wrong secret);
	// ErrTokenReused, after revoking the session, for a token of an earlier
	// generation (the session is returned); and a *RateLimitError when the
	// session's rotations in the window are used up. Of concurrent
	// rotations with one token, exactly one succeeds. A rotation presented
	// again with the same next hash (a retry of one that succeeded: only
	// the server that drew the next token knows its hash) succeeds again
	// with the same answer, and counts once.
	RotateSession(ctx context.Context, id string, r Rotation, now time.Time) (Session, error)
	// AddUserSession counts session id, live until expires, among the
	// username's sessions and returns the IDs of those beyond max (the ones
	// that expire first), which it stops counting: the caller revokes them.
	// Sessions that expired by now are forgotten first. max 0 is no limit.
	AddUserSession(ctx context.Context, username, id string, expires time.Time, max int, now time.Time) ([]string, error)
	// RevokeSession makes every refresh token of the session unusable and
	// returns the session as revoked: from then on no rotation succeeds, so
	// its AccessExpiresAt bounds every access token the session will ever
	// have. ErrNotFound for an unknown (or forgotten) session. The record is
	// kept, revoked, until its tokens have expired.
	RevokeSession(ctx context.Context, id string) (Session, error)
}

// Revocations are the revoked access tokens and grants, published with
// every user-state change on the feed the replicas' mirrors follow.
type Revocations interface {
	// RevokeAccessToken records jti as revoked until exp (kept to the
	// millisecond) and publishes the change to the revocation feed.
	RevokeAccessToken(ctx context.Context, jti string, exp time.Time) error
	// RevokeGrant records every access token whose "sid" is grant as
	// revoked until until, and publishes the change.
	RevokeGrant(ctx context.Context, grant string, until time.Time) error

	RevocationFeed
}

// Counters are the throttle's: fixed-window counts and reservations.
type Counters interface {
	// AddAttempt adds one to the counter of key for the fixed window of the
	// given length that contains now, and returns the new count. Windows are
	// aligned to multiples of window since the Unix epoch.
	AddAttempt(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	// CountAttempts returns the same counter without changing it.
	CountAttempts(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)

	// Reserve judges an attempt against r's limits at now and, if every
	// limit admits it, records the reservation on each of them, in one
	// atomic step: two concurrent calls never both take a limit's last
	// place. A limit admits an attempt while the failures counted in its
	// window containing now plus the reservations not yet settled and
	// not expired (now before their hold ended) are fewer than its Max;
	// a Waivable limit is not consulted while r's Pass marker is set. A
	// refused attempt leaves nothing behind.
	Reserve(ctx context.Context, r Reservation, now time.Time) (Admission, error)
	// Settle ends the reservation r.ID on every limit of r: Failed also
	// counts one failure on each, in its window containing now; Succeeded
	// sets r's Pass marker until now + r.PassTTL (when both are set).
	// Settling a reservation that expired still counts its failure.
	// Withdrawn also keeps r.ID from being reserved until now + r.Hold: a
	// caller whose Reserve failed (a timeout) withdraws it, and the Reserve
	// may still reach the store after the withdrawal.
	Settle(ctx context.Context, r Reservation, outcome Outcome, now time.Time) error
}

// Logins are a password login's store work batched around the password
// check, so that a login costs two round trips besides its client's
// lookup: BeginLogin before the check, FinishLogin after. Each does what
// the named methods do, as if called one after another, in one round trip
// (Redis: one pipeline, each script on its own slot).
type Logins interface {
	// BeginLogin reads l.Rate (CountAttempts; 0 when l.Rate has no key),
	// reserves l.Reservation (Reserve; admitted when it has no limits),
	// and reads l.Username's record (GetUser) and the epoch (GetEpoch). The
	// record and the epoch are read whether or not the reservation is
	// admitted; the caller uses them only if it is. When it fails after
	// the reservation was admitted (a read failed), it withdraws the
	// reservation (Settle, Withdrawn) before it returns, so that the
	// refused attempt holds no place.
	BeginLogin(ctx context.Context, l LoginStart, now time.Time) (LoginState, error)
	// FinishLogin settles l.Reservation with l.Outcome (Settle; nothing
	// when it has no limits), counts l.Rate (AddAttempt, when it has a
	// key), and, when l.Session is set, counts the session among its
	// user's (AddUserSession, with l.MaxSessions, until the later of its
	// token's and its access token's expiry) and stores it
	// (CreateSession), and, when l.LastLogin is set, records now as that
	// user's last login (RecordLogin). It returns the sessions
	// AddUserSession evicted, which the caller revokes, even with an
	// error. On an error some of these may have been done: the caller must
	// not hand out the session's refresh token, which alone reaches the
	// session.
	FinishLogin(ctx context.Context, l LoginEnd, now time.Time) ([]string, error)
}

// Refreshes are a refresh's store work in two round trips: the reads that
// judge the presented token, with the registration of a client that
// authenticates by naming itself, then the user's record with the
// rotation.
type Refreshes interface {
	// BeginRefresh reads session id (GetSession), the epoch (GetEpoch; ""
	// when there is none) and, when clientID is not empty, that client's
	// registration (GetClient) together. The error is GetSession's or
	// GetEpoch's; GetClient's is in the RefreshState, which holds the
	// client's reading whatever the error, so that the caller can judge
	// the client first.
	BeginRefresh(ctx context.Context, id, clientID string) (RefreshState, error)
	// FinishRefresh reads username's record (GetUser) and rotates session
	// id (RotateSession) together: the rotation is done whatever the
	// record says, and the caller revokes the session if the record ends
	// it. The error is RotateSession's, with its session; GetUser's is
	// in the Refreshed.
	FinishRefresh(ctx context.Context, username, id string, r Rotation, now time.Time) (Refreshed, error)
}

// RefreshState is what BeginRefresh found.
type RefreshState struct {
	Session Session
	// Epoch is the store's epoch; "" when it has none.
	Epoch string
	// Client is the registration of the client asked for, or zero with
	// ClientErr (ErrNotFound when there is none); both are zero when no
	// client was asked for.
	Client    Client
	ClientErr error
}

// Refreshed is what FinishRefresh found.
type Refreshed struct {
	// Was is the session before the rotation, as RotateSession returns it.
	Was Session
	// User is the record, or zero with UserErr (ErrNotFound when there is
	// none).
	User    User
	UserErr error
}

// Counter names an AddAttempt counter; a zero Counter is none.
type Counter struct {
	Key    string
	Window time.Duration
}

// LoginStart is what BeginLogin reads and reserves.
type LoginStart struct {
	Username    string
	Rate        Counter
	Reservation Reservation
}

// LoginState is what BeginLogin found.
type LoginState struct {
	Admission Admission
	// Rate is l.Rate's count.
	Rate int64
	// User is the record; Known is false (and User zero) when there is none.
	User  User
	Known bool
	// Epoch is the store's epoch; "" when it has none.
	Epoch string
}

// LoginEnd is what FinishLogin writes.
type LoginEnd struct {
	Reservation Reservation
	Outcome     Outcome
	Rate        Counter
	// Session, if set, is the new session; MaxSessions bounds its user's
	// (0: no bound).
	Session     *Session
	MaxSessions int
	// LastLogin, if set, is the username whose successful login at now
	// FinishLogin records (RecordLogin).
	LastLogin string
}

// Activity is what the token servers record of each user's logins for the
// manager to show in the AuthUser's status: the last successful login, and
// the throttle refusing the user's logins. Each holds one entry per user
// at most, and only users with a record get one (a login succeeded, or a
// refusal found the record), so an attacker choosing usernames cannot grow
// them; a throttle is forgotten once it has ended, and both entries of a
// user are forgotten with the user's record (DeleteUserFrom, DeleteUser).
type Activity interface {
	// RecordLogin records at as username's last successful login, unless
	// a later one is recorded already (to the millisecond).
	RecordLogin(ctx context.Context, username string, at time.Time) error
	// RecordThrottles records, for each username, that its logins are
	// refused until its Until by its Limit, unless a later Until is
	// recorded already, and forgets every throttle that ended by now; one
	// whose Until is not after now is not recorded.
	RecordThrottles(ctx context.Context, throttles map[string]Throttle, now time.Time) error
	// ReadActivity returns the users whose last login is after since, and
	// the throttles in force at now (Until after now).
	ReadActivity(ctx context.Context, since, now time.Time) (UserActivity, error)
}

// Throttle is a throttle refusing a user's logins.
type Throttle struct {
	// Until is when the logins are admitted again (the end of the
	// Retry-After), to the millisecond.
	Until time.Time
	// Limit names the limit that refused them (throttle scope: user_ip,
	// user_rate).
	Limit string
}

// UserActivity is what ReadActivity found, by username.
type UserActivity struct {
	Logins    map[string]time.Time
	Throttles map[string]Throttle
}

// Until is how long a session's user index counts it: until its refresh
// token and its access token have both expired.
func (s Session) Until() time.Time {
	if s.AccessExpiresAt.After(s.TokenExpiresAt) {
		return s.AccessExpiresAt
	}
	return s.TokenExpiresAt
}

// Assertions remembers the IDs of client assertions (RFC 7523 §3: the "jti"
// of a JWT used once), so that each is accepted once by every replica.
type Assertions interface {
	// UseAssertion records id as used until until (the assertion's expiry)
	// and reports whether it was unused; false means a replay.
	UseAssertion(ctx context.Context, id string, until, now time.Time) (bool, error)
}

// Epochs are the store's epoch marker: finding it gone means the store lost
// its data.
type Epochs interface {
	// GetEpoch returns the store's epoch marker, or ErrNotFound when there is
	// none. The controller writes a fresh random marker into an empty store;
	// finding it gone means the store lost its data (a restart without
	// persistence, FLUSHALL, failover to an empty replica), and every record
	// must be rewritten from the Kubernetes resources.
	GetEpoch(ctx context.Context) (string, error)
	// InitEpoch sets the epoch marker to value unless one is set already, and
	// returns the marker in place afterwards (value, or the existing one).
	InitEpoch(ctx context.Context, value string) (string, error)
	// ReplaceEpoch sets the marker to next if it is old, atomically, and
	// returns the marker in place afterwards. A token server that finds the
	// store rolled back replaces the epoch, which rejects every token and
	// refresh token issued before and makes the controller rewrite the
	// records.
	ReplaceEpoch(ctx context.Context, old, next string) (string, error)
}

// RevocationFeed is how token servers keep a local mirror of the
// revocation state: revoked jtis and grants, each user's state, and the
// epoch. Every change to them (RevokeAccessToken, RevokeGrant, and PutUser,
// DeleteUser and DeleteUserFrom when they change a user's state) is
// written together with an entry of an ordered change log, atomically.
type RevocationFeed interface {
	// LoadRevocations passes the whole state to fn, one piece per call:
	// every revocation whose Until is after now and every user's state. It
	// returns the store's epoch ("" when it has none) and a cursor. Changes
	// made while loading are passed to fn, or returned by ReadRevocations
	// after the cursor, or both; replaying them converges.
	LoadRevocations(ctx context.Context, now time.Time, fn func(RevocationEvent)) (epoch, cursor string, err error)
	// ReadRevocations returns up to max changes after cursor, oldest
	// first, each with the time it was written, and the cursor after the
	// last one returned. It returns
	// ErrFeedReset when epoch is not the store's epoch or changes after
	// cursor were trimmed, and ErrRolledBack when the store lost changes the
	// cursor has already passed.
	ReadRevocations(ctx context.Context, epoch, cursor string, max int) ([]RevocationEvent, string, error)
	// WaitRevocations returns when there may be changes after cursor, at
	// the latest after wait, or when ctx ends. It reads nothing.
	WaitRevocations(ctx context.Context, cursor string, wait time.Duration) error
}

// Reservation is one attempt's claim on the throttle limits it is judged
// against, from Reserve until Settle, or until its hold ends if it is never
// settled (the replica checking it died).
type Reservation struct {
	// Group holds every key of the reservation: the limits and the marker
	// of one attempt share one group (its client address), which a backend
	// keeps in one place (one Redis Cluster slot) so that one atomic step
	// sees all of them.
	Group string
	// ID tells this reservation from every other; random.
	ID     string
	Limits []ThrottleLimit
	// Hold is how long the reservation counts if it is never settled.
	Hold time.Duration
	// Pass names a marker in the group: while it is set, Waivable limits
	// do not judge the attempt (they still count its failure). Empty: none.
	Pass string
	// PassTTL is how long a success sets the marker for; 0: it does not.
	PassTTL time.Duration
}

// ThrottleLimit is one counter of failures an attempt is judged against.
type ThrottleLimit struct {
	// Key names the counter within the reservation's group.
	Key string
	// Max is the number of failures plus reservations in flight at which
	// the limit refuses; at least 1.
	Max int64
	// Window is the length of the fixed, epoch-aligned failure windows.
	Window time.Duration
	// Waivable limits are not consulted while the Pass marker is set.
	Waivable bool
}

// Admission is Reserve's verdict.
type Admission struct {
	// Refused is the index in Limits of the first limit that refused the
	// attempt; -1 when it was admitted and reserved.
	Refused int
	// InFlight is set when that limit refused only because of reservations
	// in flight: its failures alone are below Max, so the attempt may be
	// admitted as soon as one of them settles.
	InFlight bool
}

// Admitted reports whether the attempt was admitted.
func (a Admission) Admitted() bool { return a.Refused < 0 }

// Outcome is how a reservation ends.
type Outcome int

const (
	// Withdrawn means the attempt was never judged (an overload, a store error,
	// a cancelled request), or its Reserve failed. Nothing is counted.
	Withdrawn Outcome = iota
	// Succeeded means the credentials were right. Nothing is counted; the Pass
	// marker is set.
	Succeeded
	// Failed means the credentials were wrong. One failure counts on every limit.
	Failed
)

// Validate refuses a reservation a backend cannot judge.
func (r Reservation) Validate() error {
	if r.ID == "" || r.Hold <= 0 || len(r.Limits) == 0 {
		return errors.New("reservation needs an ID, a positive hold and a limit")
	}
	for _, l := range r.Limits {
		if l.Max < 1 || l.Window <= 0 {
			return fmt.Errorf("throttle limit %q needs a positive max and window", l.Key)
		}
	}
	return nil
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
