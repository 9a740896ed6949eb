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

// Package introspect serves token introspection (RFC 7662) to confidential
// clients, typically resource servers that would rather ask than validate
// JWTs themselves. Anything that is not a good token, for whatever reason,
// is exactly {"active":false}, and so is a good token the caller may not
// know about (see Handler).
package introspect

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"k8s.io/utils/clock"

	"github.com/authstack/authstack/authserver/clientauth"
	"github.com/authstack/authstack/authserver/clientip"
	"github.com/authstack/authstack/authserver/logsample"
	"github.com/authstack/authstack/authserver/session"
	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Handler serves POST /introspect to authenticated confidential clients.
//
// RFC 7662 §4: the server should determine whether the caller may know
// about the token; §2.2: one it may not is answered as a token that is not
// active. An access token is described only to the client it was issued
// to (its client_id) or to a client whose registered Audiences (the
// audiences of that client's own tokens: the resource server it is)
// include one of the token's aud values. A refresh token is described only
// to its own client. To any other caller the answer is exactly
// {"active":false}, as for an invalid token, and it is given before the
// revocation state is consulted, so that a stale mirror's 503 cannot tell
// such a caller that the token is genuine either.
type Handler struct {
	Clients *clientauth.Authenticator
	IPs     *clientip.Resolver
	// Tokens validates access tokens of any audience.
	Tokens      *accesstoken.Validator
	Revocations resourceserver.RevocationChecker
	Refresh     store.Sessions
	// Log receives refusals (see oauth.Responder: 5xx with their cause,
	// 4xx at info level); nil discards.
	Log *slog.Logger
	// Sample, if set, keeps floods of like refusals out of the log.
	Sample *logsample.Sampler
	// Clock decides expiry; nil is the real clock.
	Clock clock.PassiveClock
}

// Response is the introspection response of RFC 7662 §2.2.
type Response struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Username  string   `json:"username,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	Jti       string   `json:"jti,omitempty"`
}

var inactive = &Response{}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	oauth.NoStore(w)
	resp, err := h.serve(w, r)
	if err != nil {
		(&oauth.Responder{Log: h.Log, Msg: "Introspection refused", Sample: h.Sample}).Respond(w, r, err, "")
		return
	}
	oauth.WriteJSON(w, http.StatusOK, resp)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) (*Response, error) {
	if r.Method != http.MethodPost {
		return nil, oauth.MethodNotAllowed(http.MethodPost)
	}
	form, err := oauth.ParseForm(w, r)
	if err != nil {
		return nil, err
	}
	client, err := h.Clients.Authenticate(r.Context(), r, form, h.IPs.ClientIP(r))
	if err != nil {
		return nil, err
	}
	if client.Public() {
		// RFC 7662 §2.1: the endpoint requires authorization; a client
		// that cannot authenticate could probe any token with it.
		return nil, oauth.InvalidClient("introspection requires an authenticated confidential client")
	}
	raw := form.Get("token")
	if raw == "" {
		return nil, oauth.InvalidRequest("missing parameter: token")
	}
	if strings.Count(raw, ".") == 2 {
		return h.accessToken(raw, client)
	}
	return h.refreshToken(r.Context(), raw, client)
}

func (h *Handler) accessToken(raw string, client store.Client) (*Response, error) {
	c, err := h.Tokens.Validate(raw)
	switch {
	case errors.Is(err, accesstoken.ErrInvalidToken):
		return inactive, nil
	case errors.Is(err, accesstoken.ErrNoKeys):
		return nil, oauth.KeysUnavailable(err)
	case err != nil:
		return nil, oauth.ServerError(err)
	}
	if !mayKnow(client, c) {
		return inactive, nil
	}
	if err := h.Revocations.Check(c); err != nil {
		if errors.Is(err, accesstoken.ErrInvalidToken) {
			return inactive, nil
		}
		// Never "active" (nor "inactive") without knowing.
		return nil, oauth.RevocationUnavailable(err)
	}
	username := c.Subject
	if store.IsClientSubject(c.Subject) {
		username = "" // a client's own token: no resource owner
	}
	return &Response{
		Active: true, Scope: c.Scope, ClientID: c.ClientID, Username: username, TokenType: "Bearer",
		Exp: unix(c.ExpiresAt), Iat: unix(c.IssuedAt), Sub: c.Subject, Aud: slices.Clone(c.Audience),
		Iss: c.Issuer, Jti: c.ID,
	}, nil
}

// mayKnow reports whether client may learn about the access token c: it
// was issued to client, or it is for a resource server client is (one of
// its aud values is among the client's registered audiences).
func mayKnow(client store.Client, c *accesstoken.Claims) bool {
	if c.ClientID == client.ID {
		return true
	}
	return slices.ContainsFunc(c.Audience, func(a string) bool { return a != "" && slices.Contains(client.Audiences, a) })
}

// refreshToken answers for a refresh token, to the client it was issued to
// only: to any other it is a credential it must not learn about. Only the
// session's current token is active.
func (h *Handler) refreshToken(ctx context.Context, raw string, client store.Client) (*Response, error) {
	tok, ok := session.Parse(raw)
	if !ok {
		return inactive, nil
	}
	now := clocks.Or(h.Clock).Now()
	sess, err := h.Refresh.GetSession(ctx, tok.ID())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return inactive, nil
	case err != nil:
		return nil, oauth.StoreUnavailable(err)
	}
	if sess.Revoked || tok.StandingIn(sess) != session.Current ||
		sess.ClientID != client.ID || sess.ClientSource != client.Source ||
		!now.Before(sess.TokenExpiresAt) || !now.Before(sess.ExpiresAt) {
		return inactive, nil
	}
	// The session's user and epoch are judged as for its access tokens.
	c := &accesstoken.Claims{
		RegisteredClaims: jwt.RegisteredClaims{Subject: sess.Username, IssuedAt: jwt.NewNumericDate(sess.AuthTime)},
		SessionID:        sess.ID, Epoch: sess.Epoch,
		AuthTime: jwt.NewNumericDate(sess.AuthTime), Credential: sess.Credential,
	}
	if err := h.Revocations.Check(c); err != nil {
		if errors.Is(err, accesstoken.ErrInvalidToken) {
			return inactive, nil
		}
		return nil, oauth.RevocationUnavailable(err)
	}
	return &Response{
		Active: true, Scope: strings.Join(sess.Scopes, " "), ClientID: sess.ClientID, Username: sess.Username,
		Sub: sess.Username, Exp: sess.TokenExpiresAt.Unix(), Iat: sess.CreatedAt.Unix(),
	}, nil
}

func unix(d *jwt.NumericDate) int64 {
	if d == nil {
		return 0
	}
	return d.Unix()
}
