// Package forwardauth serves GET /verify, the forward-auth endpoint that
// gateways (ingress-nginx auth-url, Traefik ForwardAuth, Envoy ext_authz
// over HTTP) call for each request they route: 200 with the user's identity
// in headers lets the request through; 401, 403 or 503 stop it.
package forwardauth

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/authstack/authstack/authserver/accesstoken"
	"github.com/authstack/authstack/authserver/bearer"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/oauth"
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
	Auth *bearer.Authenticator
	// Audiences are accepted when the request names none: the token's aud
	// must hold one of them.
	Audiences []string
	Metrics   *metrics.Metrics
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Gateways forward the original method (Envoy) or use GET (nginx,
	// Traefik); the answer depends on the token only. Never cached: a
	// revoked token must stop working at once.
	w.Header().Set("Cache-Control", "no-store")
	c, err := h.authorize(r)
	if err != nil {
		h.Metrics.BearerValidations.WithLabelValues("verify", bearer.Outcome(err)).Inc()
		oauth.WriteError(w, err)
		return
	}
	h.Metrics.BearerValidations.WithLabelValues("verify", "success").Inc()
	w.Header().Set(HeaderUser, clean(c.Subject))
	w.Header().Set(HeaderGroups, clean(strings.Join(c.Groups, ",")))
	w.Header().Set(HeaderScopes, clean(c.Scope))
	w.Header().Set(HeaderClientID, clean(c.ClientID))
	w.WriteHeader(http.StatusOK)
}

// Path is where the handler is mounted. Requests below it (Envoy's
// ext_authz appends the client's path and query to its path_prefix) are
// answered the same way, but their query is the client's, not the
// gateway's: scope and audience parameters count on Path itself only.
const Path = "/verify"

func (h *Handler) authorize(r *http.Request) (*accesstoken.Claims, error) {
	var q url.Values
	if r.URL.Path == Path {
		q = r.URL.Query()
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

// clean drops characters a header value must not carry.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
