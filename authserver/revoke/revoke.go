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

// Package revoke serves the token revocation endpoint (RFC 7009): a client
// revokes an access token or a refresh token, and with either its whole
// session: the session's refresh tokens and every access token issued in
// it (RFC 7009 §2.1 lets revoking one token revoke the grant). Every
// replica refuses them once the change reaches its revocation mirror.
package revoke

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/authstack/authstack/authserver/audit"
	"github.com/authstack/authstack/authserver/clientauth"
	"github.com/authstack/authstack/authserver/clientip"
	"github.com/authstack/authstack/authserver/logsample"
	"github.com/authstack/authstack/authserver/session"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Store is the part of the store revocation needs: an access token
// without a session (none this server issues has no sid) is revoked by its
// jti, a refresh token is looked up by its session.
type Store interface {
	store.Revocations
	store.Sessions
}

// Handler serves POST /revoke.
type Handler struct {
	Clients *clientauth.Authenticator
	IPs     *clientip.Resolver
	// Tokens validates access tokens of any audience.
	Tokens   *accesstoken.Validator
	Store    Store
	Sessions *session.Revoker
	// Noter, if set, learns of a revoked access token at once.
	Noter session.Noter
	Log   *slog.Logger
	// Sample, if set, keeps floods of like refusals out of the log.
	Sample *logsample.Sampler
	// Audit, if set, records every revocation and (sampled) refusal in
	// the audit trail.
	Audit *audit.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	oauth.NoStore(w)
	ip := h.IPs.ClientIP(r)
	done, err := h.serve(w, r, ip)
	event := audit.Event{
		Endpoint: audit.EndpointRevoke, SourceIP: ip,
		ClientID: done.clientID, Username: done.username, SessionID: done.sessionID,
	}
	if err != nil {
		h.Audit.Record(r.Context(), event.Refused(err))
		(&oauth.Responder{Log: h.Log, Msg: "Revocation refused", Sample: h.Sample}).Respond(w, r, err, "")
		return
	}
	if done.kind != "" {
		if !done.again {
			// A session revoked before is nothing new for the audit trail:
			// a client revoking an ended session in a loop writes no event.
			event.Event, event.Outcome, event.Reason = audit.Revocation, audit.Success, "revoked by its client ("+done.kind+")"
			h.Audit.Record(r.Context(), event)
		}
		h.Log.InfoContext(r.Context(), "Token revoked", "token_type", done.kind)
	}
	// RFC 7009 §2.2: 200 also for invalid, unknown and expired tokens.
	w.WriteHeader(http.StatusOK)
}

// revocation is what a request revoked, for the logs: the kind of token
// ("" when there was nothing to revoke), the session and its user, and
// whether the session had been revoked before; and the authenticated
// client, also of a refusal.
type revocation struct {
	kind, sessionID, username, clientID string
	again                               bool
}

// serve revokes the token of a request from ip.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, ip netip.Addr) (revocation, error) {
	if r.Method != http.MethodPost {
		return revocation{}, oauth.MethodNotAllowed(http.MethodPost)
	}
	form, err := oauth.ParseForm(w, r)
	if err != nil {
		return revocation{}, err
	}
	client, err := h.Clients.Authenticate(r.Context(), r, form, ip)
	if err != nil {
		return revocation{}, err
	}
	raw := form.Get("token")
	if raw == "" {
		return revocation{clientID: client.ID}, oauth.InvalidRequest("missing parameter: token")
	}
	// token_type_hint is only a hint (RFC 7009 §2.1): the shape of the
	// token tells a JWT from an opaque refresh token for certain, so an
	// unknown or wrong hint changes nothing.
	var done revocation
	if strings.Count(raw, ".") == 2 {
		done, err = h.revokeAccessToken(r.Context(), raw, client)
	} else {
		done, err = h.revokeRefreshToken(r.Context(), raw, client)
	}
	done.clientID = client.ID
	return done, err
}

func (h *Handler) revokeAccessToken(ctx context.Context, raw string, client store.Client) (revocation, error) {
	claims, err := h.Tokens.Validate(raw)
	switch {
	case errors.Is(err, accesstoken.ErrInvalidToken):
		return revocation{}, nil // expired, forged or malformed: nothing to revoke
	case errors.Is(err, accesstoken.ErrNoKeys):
		return revocation{}, oauth.KeysUnavailable(err)
	case err != nil:
		return revocation{}, oauth.ServerError(err)
	}
	if claims.ClientID != client.ID {
		return revocation{}, errOtherClient
	}
	done := revocation{kind: "access_token", sessionID: claims.SessionID, username: claims.PreferredUsername}
	if claims.SessionID != "" {
		// The session goes with it: one revocation per session, however
		// many access tokens were revoked, so that revoking in a loop cannot
		// grow every replica's mirror; and a leaked access token may mean a
		// leaked refresh token.
		if err := h.Sessions.Revoke(ctx, claims.SessionID, claims.ExpiresAt.Time); err != nil {
			return revocation{}, err
		}
		return done, nil
	}
	exp := claims.ExpiresAt.Time.Add(h.Tokens.Skew())
	if err := h.Store.RevokeAccessToken(ctx, claims.ID, exp); err != nil {
		return revocation{}, oauth.StoreUnavailable(err)
	}
	if h.Noter != nil {
		h.Noter.Note(store.RevocationEvent{JTI: claims.ID, Until: exp})
	}
	return done, nil
}

// revokeRefreshToken revokes the session of a refresh token of it, current
// or used: whoever holds any of its tokens may end it.
func (h *Handler) revokeRefreshToken(ctx context.Context, raw string, client store.Client) (revocation, error) {
	tok, ok := session.Parse(raw)
	if !ok {
		return revocation{}, nil
	}
	sess, err := h.Store.GetSession(ctx, tok.ID())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return revocation{}, nil
	case err != nil:
		return revocation{}, oauth.StoreUnavailable(err)
	}
	if tok.StandingIn(sess) == session.Foreign {
		return revocation{}, nil // not a token this session issued
	}
	if sess.ClientID != client.ID {
		return revocation{}, errOtherClient
	}
	// Also for a session revoked already: revoking again finishes a
	// revocation that stopped half-way, and costs nothing otherwise.
	if err := h.Sessions.Revoke(ctx, sess.ID, sess.AccessExpiresAt); err != nil {
		return revocation{}, err
	}
	return revocation{kind: "refresh_token", sessionID: sess.ID, username: sess.Username, again: sess.Revoked}, nil
}

// errOtherClient refuses to revoke a token issued to another client (RFC
// 7009 §2.1), in the words of RFC 6749 §5.2.
var errOtherClient = oauth.UnauthorizedClient("the token was not issued to this client")
