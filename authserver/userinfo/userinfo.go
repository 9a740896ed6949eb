// Package userinfo serves the bearer-protected /userinfo endpoint: the
// current user's identity, the counterpart of a "/users/me" resource.
package userinfo

import (
	"net/http"
	"strings"

	"github.com/authstack/authstack/authserver/bearer"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/internal/oauth"
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
	Auth    *bearer.Authenticator
	Metrics *metrics.Metrics
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		oauth.WriteError(w, oauth.MethodNotAllowed("GET, POST"))
		return
	}
	c, err := h.Auth.Authenticate(r)
	if err != nil {
		h.Metrics.BearerValidations.WithLabelValues("userinfo", bearer.Outcome(err)).Inc()
		oauth.WriteError(w, err)
		return
	}
	h.Metrics.BearerValidations.WithLabelValues("userinfo", "success").Inc()
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
