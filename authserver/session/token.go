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

// Package session holds what a refresh-token session is outside the grant
// that rotates it: the opaque refresh token and its stored forms, how a
// presented token stands in its session, and the revocation of a session
// with every access token issued in it. The token endpoint, /revoke and
// /introspect share it.
package session

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"

	"github.com/authstack/authstack/internal/store"
)

// Token is a refresh token. It is opaque to clients: base64url (no padding) of
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
type Token struct {
	session [16]byte
	gen     uint64
	secret  [32]byte
}

const tokenBytes = 16 + 8 + 32

// New starts a new session's token of generation 0.
func New() Token {
	var t Token
	rand.Read(t.session[:]) // never fails (crypto/rand crashes the program instead)
	rand.Read(t.secret[:])
	return t
}

// Next is the token that replaces t: the same session, the next
// generation, a new secret.
func (t Token) Next() Token {
	n := Token{session: t.session, gen: t.gen + 1}
	rand.Read(n.secret[:])
	return n
}

// String is the token as the client holds it.
func (t Token) String() string {
	var b [tokenBytes]byte
	copy(b[:16], t.session[:])
	binary.BigEndian.PutUint64(b[16:24], t.gen)
	copy(b[24:], t.secret[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Generation counts the rotations of t's session before t.
func (t Token) Generation() uint64 { return t.gen }

// ID is the store's key and the access tokens' sid: a one-way function of
// the secret session ID.
func (t Token) ID() string {
	h := sha256.New()
	h.Write([]byte("authstack refresh session\x00"))
	h.Write(t.session[:])
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// Hash is the stored form of the token's secret: hex SHA-256. The secret
// has 256 random bits, so a fast hash protects it.
func (t Token) Hash() string {
	sum := sha256.Sum256(t.secret[:])
	return hex.EncodeToString(sum[:])
}

// Parse reads a refresh token; false for anything this server cannot have
// issued, before the store is asked.
func Parse(raw string) (Token, bool) {
	var t Token
	if base64.RawURLEncoding.EncodedLen(tokenBytes) != len(raw) {
		return t, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(raw)
	if err != nil || len(b) != tokenBytes {
		return t, false
	}
	copy(t.session[:], b[:16])
	t.gen = binary.BigEndian.Uint64(b[16:24])
	copy(t.secret[:], b[24:])
	return t, true
}

// Standing is what a refresh token is to its session.
type Standing int

const (
	// Foreign is not a token the session issued (a later generation, or
	// another secret); it says nothing about the session.
	Foreign Standing = iota
	// Used is a token of an earlier generation, exchanged already. Its
	// secret is not kept, but only a holder of one of the session's tokens
	// knows the secret session ID it carries.
	Used
	// Current is the session's current token.
	Current
)

// StandingIn judges t against sess, its session in the store, in constant
// time.
func (t Token) StandingIn(sess store.Session) Standing {
	switch {
	case t.gen < sess.Generation:
		return Used
	case t.gen == sess.Generation && subtle.ConstantTimeCompare([]byte(t.Hash()), []byte(sess.TokenHash)) == 1:
		return Current
	}
	return Foreign
}
