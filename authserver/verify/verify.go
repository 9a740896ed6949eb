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

// Package verify serves GET /verify, the forward-auth endpoint that
// gateways (ingress-nginx auth-url, Traefik ForwardAuth, Envoy ext_authz
// over HTTP) call for each request they route: 200 with the user's identity
// in headers lets the request through; 401, 403 or 503 stop it.
package verify

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/authstack/authstack/authserver/logsample"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Response headers of a granted request.
const (
	HeaderUser     = "X-Auth-Request-User"
	HeaderGroups   = "X-Auth-Request-Groups"
	HeaderScopes   = "X-Auth-Request-Scopes"
	HeaderClientID = "X-Auth-Request-Client-Id"
)

// Handler serves /verify.
type Handler struct {
	// Auth validates tokens of any audience; the handler checks the
	// audience itself.
	Auth *resourceserver.Authenticator
	// Audiences are accepted when the request names none: the token's aud
	// must hold one of them.
	Audiences []string
	// Validations counts the requests granted and refused.
	Validations *metrics.Validations
	// Log receives refusals (see oauth.Responder: 5xx with their cause,
	// 4xx at debug level) and is told, at most once per
	// IgnoredLogInterval, when scope or audience parameters arrive below
	// Path, where they are not applied; nil discards.
	Log *slog.Logger
	// Sample, if set, keeps floods of like refusals out of the log.
	Sample *logsample.Sampler
	// At is where the handler is served: Path below the issuer's path
	// ("/auth/verify"); Path when empty. Requirements count on At itself.
	At string

	lastIgnored atomic.Int64 // when that was last logged, in Unix nanoseconds
}

// IgnoredLogInterval is the least time between two log lines about
// parameters ignored below Path: they come from clients, who must not be
// able to flood the log.
const IgnoredLogInterval = time.Minute

// requirementParams are the query parameters that set what a token needs.
var requirementParams = []string{"scope", "audience"}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Gateways forward the original method (Envoy) or use GET (nginx,
	// Traefik); the answer depends on the token only. Never cached: a
	// revoked token must stop working at once.
	hdr := w.Header()
	hdr["Cache-Control"] = noStore
	c, err := h.authorize(r)
	if err != nil {
		h.Validations.Refused(metrics.BearerOutcome(err))
		(&oauth.Responder{Log: h.Log, Msg: "Verification refused", Sample: h.Sample, ClientLevel: slog.LevelDebug}).
			Respond(w, r, err, "")
		return
	}
	h.Validations.Granted()
	// One allocation for the four values, each header its own slice of
	// it (the keys are canonical: verify_test checks).
	v := [...]string{clean(c.Subject), clean(strings.Join(c.Groups, ",")), clean(c.Scope), clean(c.ClientID)}
	values := v[:]
	hdr[HeaderUser] = values[0:1:1]
	hdr[HeaderGroups] = values[1:2:2]
	hdr[HeaderScopes] = values[2:3:3]
	hdr[HeaderClientID] = values[3:4:4]
	w.WriteHeader(http.StatusOK)
}

// noStore is every answer's Cache-Control value, shared: header values
// are never written to in place.
var noStore = []string{"no-store"}

// Path is where the handler is mounted. Requests below it (Envoy's
// ext_authz appends the client's path and query to its path_prefix) are
// answered the same way, but their query is the client's, not the
// gateway's: scope and audience parameters count on Path itself only, and
// below it are logged (see Handler.Log) and not applied.
const Path = "/verify"

func (h *Handler) authorize(r *http.Request) (*accesstoken.Claims, error) {
	q, err := h.query(r)
	if err != nil {
		return nil, err
	}
	required, err := oauth.ParseScope(q.Get("scope"))
	if err != nil {
		return nil, oauth.BearerChallenge(oauth.CodeInvalidRequest, "invalid scope parameter")
	}
	audiences := h.Audiences
	if a := q.Get("audience"); a != "" {
		audiences = []string{a}
	}
	c, err := h.Auth.Authenticate(r)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(audiences, a) }) {
		return nil, oauth.BearerChallenge(oauth.CodeInvalidToken, "wrong audience")
	}
	for _, s := range required {
		if !c.HasScope(s) {
			return nil, oauth.BearerChallenge(oauth.CodeInsufficientScope, "the token lacks a required scope", required...)
		}
	}
	return c, nil
}

// query returns the gateway's requirements: the query on Path itself,
// nothing below it. A repeated scope or audience is invalid_request (RFC
// 6750 §3.1): reading only the first would let "?scope=read&scope=admin"
// pass a token without admin.
func (h *Handler) query(r *http.Request) (url.Values, error) {
	at := h.At
	if at == "" {
		at = Path
	}
	if r.URL.RawQuery == "" {
		return nil, nil // no requirements: nothing to parse
	}
	if r.URL.Path != at {
		q, _ := url.ParseQuery(r.URL.RawQuery) // the client's: only looked at for the log
		h.noteIgnored(q)
		return nil, nil
	}
	// The whole query or nothing: url.URL.Query drops a pair it cannot
	// parse ("?scope=admin%ZZ", "?scope=admin;"), which would check no
	// scope, or the default audience, where the gateway asked for one.
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, oauth.BearerChallenge(oauth.CodeInvalidRequest, "malformed query")
	}
	for _, p := range requirementParams {
		if len(q[p]) > 1 {
			return nil, oauth.BearerChallenge(oauth.CodeInvalidRequest, "repeated "+p+" parameter")
		}
	}
	return q, nil
}

// noteIgnored logs that the client's query below Path names scope or
// audience, which are not applied there: an operator who put them in an
// Envoy route expects a check that does not happen. Only the names are
// logged, never values, and at most once per IgnoredLogInterval.
func (h *Handler) noteIgnored(q url.Values) {
	var names []string
	for _, p := range requirementParams {
		if _, ok := q[p]; ok {
			names = append(names, p)
		}
	}
	if len(names) == 0 || h.Log == nil {
		return
	}
	now, last := time.Now().UnixNano(), h.lastIgnored.Load()
	if last != 0 && now-last < int64(IgnoredLogInterval) || !h.lastIgnored.CompareAndSwap(last, now) {
		return
	}
	h.Log.Warn("Query parameters below "+Path+"/ are the client's and are not applied; "+
		"requirements count on "+Path+" itself only", "parameters", names, "repeats_suppressed_for", IgnoredLogInterval.String())
}

// clean drops characters a header value must not carry.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
