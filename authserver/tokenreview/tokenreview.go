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

// Package tokenreview serves POST /tokenreview, a Kubernetes webhook token
// authenticator (kube-apiserver --authentication-token-webhook-config-file):
// the API server posts a TokenReview holding a bearer token and is told who
// the token's user is. Tokens are judged as /verify judges them, by the one
// bearer authenticator and the revocation mirror, so that a revoked
// session, a disabled, deleted or re-passworded user and a stale mirror are
// refused here too.
//
// Answers (what kube-apiserver's webhook authenticator,
// k8s.io/apiserver/plugin/pkg/authenticator/token/webhook, does with them):
//
//   - a valid token: 200, status.authenticated true, the user's name and
//     groups under Prefix; status.audiences empty, so the API server
//     judges the answer against its own --api-audiences (it intersects the
//     audiences it asked about with its implicit ones);
//   - an invalid, expired, revoked or wrong-audience token: 200,
//     authenticated false and a short status.error (a fixed reason, never
//     the token). The API server does not cache an answer with an error
//     (its cache drops errors), so a token refused here is asked about
//     again on its next use;
//   - revocation state or keys that cannot be consulted: 503, without
//     Retry-After. The API server fails that authentication (the user gets
//     401) and caches nothing. With a Retry-After its REST client would
//     retry up to ten times, honouring it, inside each of five backoff
//     steps: about a minute of a held API request;
//   - a request that is not a TokenReview (wrong method, content type,
//     apiVersion or kind, malformed JSON, no token, a body over
//     MaxBodyBytes): 405, 415, 400 or 413.
//
// Both authentication.k8s.io/v1 and v1beta1 (kube-apiserver's default
// --authentication-token-webhook-version) are accepted; their TokenReviews
// are the same on the wire, and the answer is in the version asked.
package tokenreview

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"
	authenticationv1beta1 "k8s.io/api/authentication/v1beta1"
	sigsjson "sigs.k8s.io/json"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/authserver/logsample"
	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Path is where the handler is mounted.
const Path = "/tokenreview"

// MaxBodyBytes bounds a TokenReview. One holds a token (a few hundred
// bytes; the validators refuse one over accesstoken.DefaultMaxTokenBytes)
// and the API server's audiences.
const MaxBodyBytes = 64 << 10

// DefaultPrefix is the --tokenreview-prefix default.
const DefaultPrefix = "authstack:"

// Keys of the answer's user.extra.
const (
	// ExtraClientID holds the client the token was issued to.
	ExtraClientID = "authstack.io/client-id"
	// ExtraSessionID holds the token's session (its sid, the store's key
	// of the session, which cannot make a token), so that the API
	// server's audit log ties a request to it; absent for a token without
	// one.
	ExtraSessionID = "authstack.io/session-id"
	// ExtraScopes holds the granted scopes; absent when none were.
	ExtraScopes = "authstack.io/scopes"
)

// kind is the kind of the TokenReview objects exchanged.
const kind = "TokenReview"

// apiVersions are the versions of TokenReview accepted, and answered in.
var apiVersions = []string{
	authenticationv1.SchemeGroupVersion.String(),
	authenticationv1beta1.SchemeGroupVersion.String(),
}

// Handler serves POST /tokenreview.
type Handler struct {
	// Auth validates tokens of the webhook's audiences (its validator's
	// Audiences), with the revocation mirror.
	Auth *resourceserver.Authenticator
	// Prefix starts every username and group answered; it must pass
	// CheckPrefix.
	Prefix string
	// Validations counts the reviews by outcome.
	Validations *metrics.Validations
	// Log receives refusals (see oauth.Responder: 5xx with their cause,
	// the rest at debug level); nil discards.
	Log *slog.Logger
	// Sample, if set, keeps floods of like refusals out of the log.
	Sample *logsample.Sampler
}

// CheckPrefix checks a prefix of the answered names: not empty, so that
// no authstack user or group is ever one of Kubernetes' own or one another
// authenticator answers (a user "admin" of client certificates), and a
// valid group (v1alpha1.ValidateGroup) itself: no "system:" (a prefix
// "system:" would make group "masters" system:masters), no comma, white
// space or control character.
func CheckPrefix(p string) error {
	if p == "" {
		return errors.New("the TokenReview prefix must not be empty: names would collide with Kubernetes' own")
	}
	if err := v1alpha1.ValidateGroup(p); err != nil {
		return fmt.Errorf("the TokenReview prefix: %w", err)
	}
	return nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// An answer about a token must not be kept by anything in between:
	// the API server's own cache is the one its operator bounded.
	w.Header().Set("Cache-Control", "no-store")
	review, err := read(w, r)
	if err != nil {
		h.Validations.Refused(metrics.BearerOutcome(err))
		h.responder().Respond(w, r, err, "")
		return
	}
	c, err := h.Auth.Check(r.Context(), review.Spec.Token)
	if err == nil && store.IsClientSubject(c.Subject) {
		err = errNoUser
	}
	switch e := oauth.As(err); {
	case err == nil:
		h.Validations.Granted()
		h.answer(w, review, h.status(c))
	case e.Code == oauth.CodeInvalidToken:
		h.Validations.Refused(e.Code)
		h.responder().Note(r, e, "")
		h.answer(w, review, authenticationv1.TokenReviewStatus{Error: "authstack: " + e.Description})
	default:
		// Fail closed, and at once: see the package comment for why
		// without Retry-After.
		h.Validations.Refused(e.Code)
		h.responder().Respond(w, r, e.WithRetryAfter(0), "")
	}
}

func (h *Handler) responder() *oauth.Responder {
	return &oauth.Responder{Log: h.Log, Msg: "TokenReview refused", Sample: h.Sample, ClientLevel: slog.LevelDebug}
}

// errNoUser refuses a client's own token (client_credentials): it names no
// user, and none is made up for it. Kubernetes has ServiceAccounts for
// programs, and a name under the prefix for a client would be one more
// way to become a user that no AuthUser grants (docs/security.md).
var errNoUser = oauth.BearerChallenge(oauth.CodeInvalidToken, "the token is a client's own and names no user")

// status is the answer for a valid token: every name under the prefix.
// The uid stays empty: Kubernetes wants one that differs between a user
// and a later one of the same name, and a token knows only the name.
func (h *Handler) status(c *accesstoken.Claims) authenticationv1.TokenReviewStatus {
	groups := make([]string, 0, len(c.Groups))
	for _, g := range c.Groups {
		groups = append(groups, h.Prefix+g)
	}
	extra := map[string]authenticationv1.ExtraValue{ExtraClientID: {c.ClientID}}
	if c.SessionID != "" {
		extra[ExtraSessionID] = authenticationv1.ExtraValue{c.SessionID}
	}
	if s := c.Scopes(); len(s) > 0 {
		extra[ExtraScopes] = s
	}
	return authenticationv1.TokenReviewStatus{
		Authenticated: true,
		User:          authenticationv1.UserInfo{Username: h.Prefix + c.Subject, Groups: groups, Extra: extra},
	}
}

// answer writes the review back, in its version, with the status and
// without the token.
func (h *Handler) answer(w http.ResponseWriter, review *authenticationv1.TokenReview, st authenticationv1.TokenReviewStatus) {
	oauth.WriteJSON(w, http.StatusOK, &authenticationv1.TokenReview{TypeMeta: review.TypeMeta, Status: st})
}

// read checks the request and decodes its TokenReview.
func read(w http.ResponseWriter, r *http.Request) (*authenticationv1.TokenReview, error) {
	if r.Method != http.MethodPost {
		return nil, oauth.MethodNotAllowed(http.MethodPost)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, withStatus(oauth.InvalidRequest("request body must be application/json"), http.StatusUnsupportedMediaType)
	}
	return Decode(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
}

// Decode reads one TokenReview from body: a JSON object and nothing after
// it, decoded as kube-apiserver decodes strictly (sigs.k8s.io/json: member
// names matched case-sensitively, none repeated, every one a member the
// type has: an unknown one may be a field the API server means to be
// obeyed, and a repeated one would be read differently by another
// parser), of a known apiVersion, kind TokenReview, with a token. Its
// errors are 400 invalid_request, or 413 when body is an
// http.MaxBytesReader that reached its limit.
func Decode(body io.Reader) (*authenticationv1.TokenReview, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, malformed(err)
	}
	var review authenticationv1.TokenReview
	strict, err := sigsjson.UnmarshalStrict(data, &review)
	if err != nil {
		return nil, malformed(err)
	}
	if len(strict) > 0 {
		return nil, malformed(errors.Join(strict...))
	}
	switch {
	case review.Kind != kind:
		return nil, oauth.InvalidRequest("kind must be " + kind)
	case !slices.Contains(apiVersions, review.APIVersion):
		return nil, oauth.InvalidRequest("apiVersion must be " + apiVersions[0] + " or " + apiVersions[1])
	case review.Spec.Token == "":
		return nil, oauth.InvalidRequest("spec.token is missing")
	}
	return &review, nil
}

// malformed is the refusal of a body that does not decode; encoding/json's
// error, which names at most a member or a character, is kept for the log.
func malformed(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return withStatus(oauth.InvalidRequest("request body too large"), http.StatusRequestEntityTooLarge)
	}
	return oauth.InvalidRequest("malformed TokenReview").WithCause(err)
}

func withStatus(e *oauth.Error, status int) *oauth.Error {
	e.Status = status
	return e
}
