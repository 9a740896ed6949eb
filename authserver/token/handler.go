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
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/authstack/authstack/authserver/audit"
	"github.com/authstack/authstack/authserver/clientauth"
	"github.com/authstack/authstack/authserver/clientip"
	"github.com/authstack/authstack/authserver/logsample"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Handler serves POST /token.
type Handler struct {
	Clients *clientauth.Authenticator
	// Grants maps a grant_type to its handler.
	Grants map[string]Grant
	// Keys are the signing keys: without a key set (the server still
	// waiting for its key Secret) every grant is refused with a 503
	// before it has any effect.
	Keys signer.Source
	IPs  *clientip.Resolver
	// ClientRate, if set, bounds each confidential client's token requests
	// in a window, successes included. Public clients are not counted:
	// anyone can name one, so its budget would be everyone's.
	ClientRate *throttle.RateLimit
	Metrics    *metrics.Metrics
	Log        *slog.Logger
	// Sample, if set, keeps floods of like refusals out of the log; the
	// metrics count every request regardless.
	Sample *logsample.Sampler
	// Audit, if set, records every success and (sampled) refusal in the
	// audit trail.
	Audit *audit.Logger

	warnXFF sync.Once
}

// defaultGrantTypes apply to a client that lists none; never
// client_credentials, which a client must ask for.
var defaultGrantTypes = []string{GrantPassword, GrantRefreshToken}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// RFC 6749 §5.1: no response of the token endpoint may be cached.
	oauth.NoStore(w)
	req := &Request{GrantType: unknownGrant, ClientIP: h.IPs.ClientIP(r)}
	resp, err := h.serve(w, r, req)
	grantType, ip := req.GrantType, req.ClientIP.String()
	event := audit.Event{
		Endpoint: audit.EndpointToken, GrantType: grantType, SourceIP: req.ClientIP,
		Username: req.Username, ClientID: req.Client.ID, SessionID: req.SessionID,
	}
	outcome := "success"
	if err != nil {
		outcome = oauth.As(err).Code
		h.Audit.Record(r.Context(), event.Refused(err))
		// Never the parameters: a failed login's username field may hold
		// a mistyped password. Of a flood of one kind (one grant type,
		// error and status: a bounded set of keys), only a sample is
		// written, and a summary; so a password spray cannot hide a
		// refresh grant's refusals. Sessions the refresh grant ends are
		// logged by the grant itself, never sampled.
		(&oauth.Responder{Log: h.Log, Msg: "Token request refused", Sample: h.Sample}).
			Respond(w, r, err, grantType, "grant_type", grantType, "client_ip", ip)
	} else {
		event.Event, event.Outcome = audit.Login, audit.Success
		if grantType == GrantRefreshToken {
			event.Event = audit.Refresh
		}
		event.ClientID, event.SessionID = resp.ClientID, resp.SessionID
		// Written before the tokens go out: a client that has them has its
		// line in the audit trail.
		h.Audit.Record(r.Context(), event)
		h.Log.InfoContext(r.Context(), "Token issued", "grant_type", grantType, "client_id", resp.ClientID,
			"client_ip", ip, "sub", resp.Subject)
		oauth.WriteJSON(w, http.StatusOK, resp)
	}
	h.Metrics.TokenRequests.WithLabelValues(grantType, outcome).Inc()
	h.Metrics.TokenDuration.WithLabelValues(grantType, outcome).Observe(time.Since(start).Seconds())
}

// unknownGrant is the grant type of the metrics and the audit trail for a
// request that names none the server serves (a bounded set).
const unknownGrant = "unknown"

// serve handles the request and returns the tokens, or the error. It
// fills req as it learns: the grant type once the request names a grant
// the server serves, the form, the client once admitted, and what the
// grant tells of the user and the session.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, req *Request) (*Response, error) {
	if r.Method != http.MethodPost {
		return nil, oauth.MethodNotAllowed(http.MethodPost)
	}
	form, err := oauth.ParseForm(w, r)
	if err != nil {
		return nil, err
	}
	gt := form.Get("grant_type")
	if gt == "" {
		return nil, oauth.InvalidRequest("missing parameter: grant_type")
	}
	grant, ok := h.Grants[gt]
	if !ok {
		return nil, oauth.UnsupportedGrantType("unsupported grant_type: " + oauth.Echo(gt))
	}
	req.GrantType = gt
	if h.Keys.Current() == nil {
		// Before client authentication and the grant: nothing is counted,
		// hashed or rotated for a token that cannot be signed.
		return nil, oauth.KeysUnavailable(accesstoken.ErrNoKeys)
	}
	ip := req.ClientIP
	if h.IPs.IgnoresForwardedFor(r) {
		h.Metrics.ForwardedForIgnored.Inc()
		h.warnXFF.Do(func() {
			h.Log.Warn("X-Forwarded-For from a peer that is not a trusted proxy is ignored; behind a proxy, "+
				"list it in --trusted-proxies or every client shares its throttle budget", "peer", ip.String())
		})
	}
	if o, ok := grant.(Overloadable); ok {
		// Refuse overload before client authentication writes its throttle
		// counters: a busy server must not cost the store anything.
		if err := o.Overloaded(); err != nil {
			return nil, err
		}
	}
	req.Form = form
	// The sessions a grant ends are recorded with the request's origin.
	ctx := audit.WithOrigin(r.Context(), audit.Origin{Endpoint: audit.EndpointToken, GrantType: gt, SourceIP: ip})
	if g, ok := grant.(NamedClientGrant); ok {
		if id, ok := h.Clients.Named(r, form); ok {
			// The client's registration is read with the grant's first
			// reads, and judged before the grant does anything else.
			p := h.pending(id, gt)
			resp, err := g.HandleNamed(ctx, req, p)
			if err == nil && !p.admitted {
				// Fail closed: no grant issues tokens to a client it did
				// not have judged.
				return nil, oauth.ServerError(errors.New("grant " + gt + " answered without judging its client"))
			}
			return resp, err
		}
	}
	client, err := h.Clients.Authenticate(r.Context(), r, form, ip)
	if err != nil {
		return nil, err
	}
	if err := h.admit(r.Context(), client, gt); err != nil {
		return nil, err
	}
	req.Client = client
	return grant.Handle(ctx, req)
}

// admit applies the endpoint's policy to an authenticated client: a
// confidential client's request rate, and the grant types it may use.
func (h *Handler) admit(ctx context.Context, client store.Client, gt string) error {
	if !client.Public() {
		if err := h.ClientRate.Take(ctx, client.ID); err != nil {
			return throttle.Refusal(h.Metrics, err)
		}
	}
	allowed := client.GrantTypes
	if len(allowed) == 0 {
		allowed = defaultGrantTypes
	}
	if !slices.Contains(allowed, gt) {
		return oauth.UnauthorizedClient("client is not allowed to use grant_type " + gt)
	}
	return nil
}

// pending is the client id, named by a request of grant type gt, to be
// judged by the grant (NamedClientGrant) as Authenticate and admit would.
func (h *Handler) pending(id, gt string) *PendingClient {
	return &PendingClient{
		ID:   id,
		read: h.Clients.Clients.GetClient,
		judge: func(ctx context.Context, c store.Client, err error) (store.Client, error) {
			if c, err = h.Clients.JudgeNamed(id, c, err); err != nil {
				return store.Client{}, err
			}
			if err := h.admit(ctx, c, gt); err != nil {
				return store.Client{}, err
			}
			return c, nil
		},
	}
}
