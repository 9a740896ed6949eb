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

// Package userinfo serves the bearer-protected /userinfo endpoint: the
// current user's identity, the counterpart of a "/users/me" resource.
package userinfo

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/authstack/authstack/authserver/logsample"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver"
)

// Info is the response body.
type Info struct {
	Subject           string   `json:"sub"`
	PreferredUsername string   `json:"preferred_username"`
	Groups            []string `json:"groups"`
	Scope             string   `json:"scope,omitempty"`
	ClientID          string   `json:"client_id"`
}

// Handler serves GET and POST /userinfo.
type Handler struct {
	// Auth validates tokens whose audience is the issuer.
	Auth *resourceserver.Authenticator
	// Validations counts the requests granted and refused.
	Validations *metrics.Validations
	// Log receives refusals (see oauth.Responder: 5xx with their cause,
	// 4xx at debug level); nil discards.
	Log *slog.Logger
	// Sample, if set, keeps floods of like refusals out of the log.
	Sample *logsample.Sampler
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		h.refuse(w, r, oauth.MethodNotAllowed("GET, POST"))
		return
	}
	c, err := h.Auth.Authenticate(r)
	if err == nil && store.IsClientSubject(c.Subject) {
		// A client's own token (client_credentials) is valid, but there
		// is no user to describe.
		err = errNoUser
	}
	if err != nil {
		h.Validations.Refused(metrics.BearerOutcome(err))
		h.refuse(w, r, err)
		return
	}
	h.Validations.Granted()
	// The groups are the token's: a change of groups takes effect with
	// the next token, as with every other consumer of the token.
	groups := c.Groups
	if groups == nil {
		groups = []string{}
	}
	w.Header().Set("Cache-Control", "no-store")
	oauth.WriteJSON(w, http.StatusOK, Info{
		Subject:           c.Subject,
		PreferredUsername: c.Subject,
		Groups:            groups,
		Scope:             strings.Join(c.Scopes(), " "),
		ClientID:          c.ClientID,
	})
}

// errNoUser refuses a token that names no user (RFC 6750 §3.1:
// invalid_token, for a token this resource does not take).
var errNoUser = oauth.BearerChallenge(oauth.CodeInvalidToken, "the token is a client's own and names no user")

// refuse renders and logs err.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, err error) {
	(&oauth.Responder{Log: h.Log, Msg: "Userinfo request refused", Sample: h.Sample, ClientLevel: slog.LevelDebug}).
		Respond(w, r, err, "")
}
