package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"

	"github.com/authstack/authstack/authserver/store"
)

// A refresh token is opaque to clients: base64url (no padding) of
//
//	secret session ID (16 bytes) ‖ generation (8 bytes, big-endian) ‖ secret (32 bytes)
//
// 75 characters. The store keeps one record per session, under the "sid"
// derived one-way from the secret session ID (SessionIDOf), holding the
// current generation and the SHA-256 of its secret. So a session takes one
// record whatever the number of rotations; a token of an earlier generation
// is a used one (reuse, RFC 9700 §4.14.2); and neither the store's key nor
// an access token's sid lets anyone make a token of the session: the secret
// session ID is in refresh tokens only.
type refreshToken struct {
	session [16]byte
	gen     uint64
	secret  [32]byte
}

const refreshTokenBytes = 16 + 8 + 32

// newRefreshToken starts a new session's token of generation 0.
func newRefreshToken() refreshToken {
	var t refreshToken
	rand.Read(t.session[:]) // never fails (crypto/rand crashes the program instead)
	rand.Read(t.secret[:])
	return t
}

// next is the token that replaces t: the same session, the next
// generation, a new secret.
func (t refreshToken) next() refreshToken {
	n := refreshToken{session: t.session, gen: t.gen + 1}
	rand.Read(n.secret[:])
	return n
}

// String is the token as the client holds it.
func (t refreshToken) String() string {
	var b [refreshTokenBytes]byte
	copy(b[:16], t.session[:])
	binary.BigEndian.PutUint64(b[16:24], t.gen)
	copy(b[24:], t.secret[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sessionID is the store's key and the access tokens' sid: a one-way
// function of the secret session ID.
func (t refreshToken) sessionID() string {
	h := sha256.New()
	h.Write([]byte("authstack refresh session\x00"))
	h.Write(t.session[:])
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// hash is the stored form of the token's secret: hex SHA-256. The secret
// has 256 random bits, so a fast hash protects it.
func (t refreshToken) hash() string {
	sum := sha256.Sum256(t.secret[:])
	return hex.EncodeToString(sum[:])
}

// parseRefreshToken reads a refresh token; false for anything this server
// cannot have issued, before the store is asked.
func parseRefreshToken(raw string) (refreshToken, bool) {
	var t refreshToken
	if base64.RawURLEncoding.EncodedLen(refreshTokenBytes) != len(raw) {
		return t, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(raw)
	if err != nil || len(b) != refreshTokenBytes {
		return t, false
	}
	copy(t.session[:], b[:16])
	t.gen = binary.BigEndian.Uint64(b[16:24])
	copy(t.secret[:], b[24:])
	return t, true
}

// RefreshSession returns the session (the store's key, the sid of its
// access tokens), generation and secret hash of a refresh token, or false
// for a string that is not one: for the endpoints that look refresh
// tokens up (/revoke, /introspect).
func RefreshSession(raw string) (id string, gen uint64, hash string, ok bool) {
	t, ok := parseRefreshToken(raw)
	if !ok {
		return "", 0, "", false
	}
	return t.sessionID(), t.gen, t.hash(), true
}

// Standing is what a refresh token is to its session.
type Standing int

const (
	// Foreign: not a token the session issued (a later generation, or
	// another secret); it says nothing about the session.
	Foreign Standing = iota
	// Used: a token of an earlier generation, exchanged already. Its
	// secret is not kept, but only a holder of one of the session's tokens
	// knows the secret session ID it carries.
	Used
	// Current: the session's current token.
	Current
)

// StandingIn judges the refresh token of generation gen whose secret has
// the stored form hash (RefreshSession) against sess, in constant time.
func StandingIn(sess store.Session, gen uint64, hash string) Standing {
	switch {
	case gen < sess.Generation:
		return Used
	case gen == sess.Generation && subtle.ConstantTimeCompare([]byte(hash), []byte(sess.TokenHash)) == 1:
		return Current
	}
	return Foreign
}
