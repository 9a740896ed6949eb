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

// Package oauth holds the OAuth 2.0 protocol primitives shared by every
// endpoint: the typed error, rendered in exactly one place (WriteError)
// and rendered and logged by one Responder, and the strict parsing of
// form-encoded requests.
package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Error codes from RFC 6749 §5.2, RFC 6750 §3.1 and RFC 7009 §2.2.1.
const (
	CodeInvalidRequest         = "invalid_request"
	CodeInvalidClient          = "invalid_client"
	CodeInvalidGrant           = "invalid_grant"
	CodeUnauthorizedClient     = "unauthorized_client"
	CodeUnsupportedGrantType   = "unsupported_grant_type"
	CodeInvalidScope           = "invalid_scope"
	CodeInvalidToken           = "invalid_token"
	CodeInsufficientScope      = "insufficient_scope"
	CodeServerError            = "server_error"
	CodeTemporarilyUnavailable = "temporarily_unavailable"
	CodeSlowDown               = "slow_down"
	CodeUnsupportedTokenType   = "unsupported_token_type"
)

// Error is an OAuth 2.0 error response. Its Description is shown to the
// client, so it must never carry internal details; Cause is kept for logs.
// An empty Code is a bare challenge: status and headers, no body.
type Error struct {
	Code        string
	Description string
	Status      int
	// RetryAfter, when set, is sent as a Retry-After header (whole seconds).
	RetryAfter time.Duration
	// WWWAuthenticate, when set, is sent as the WWW-Authenticate header.
	WWWAuthenticate string
	// Cause is the internal error behind a server-side failure; never rendered.
	Cause error

	allow string
	// storeDown marks the 503 of an unreachable store (StoreUnavailable).
	storeDown bool
}

// StoreDown reports whether e is the 503 of a store that could not be
// reached (StoreUnavailable), which the token server counts by endpoint.
func (e *Error) StoreDown() bool { return e.storeDown }

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.Cause)
	}
	return e.Code + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.Cause }

// WithCause returns a copy of e that records cause for logging.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

// InvalidRequest is RFC 6749's "invalid_request": a missing, repeated or
// malformed parameter.
func InvalidRequest(desc string) *Error {
	return &Error{Code: CodeInvalidRequest, Description: desc, Status: http.StatusBadRequest}
}

// InvalidClient is "invalid_client" (RFC 6749 §5.2): 401 with a challenge
// for the scheme the client used, or Basic when it used none.
func InvalidClient(desc string) *Error {
	return &Error{
		Code: CodeInvalidClient, Description: desc, Status: http.StatusUnauthorized,
		WWWAuthenticate: `Basic realm="authstack", charset="UTF-8"`,
	}
}

// InvalidGrant is "invalid_grant": bad resource owner credentials or a bad
// refresh token. One body for every cause, so none can be told apart.
func InvalidGrant(desc string) *Error {
	return &Error{Code: CodeInvalidGrant, Description: desc, Status: http.StatusBadRequest}
}

// UnauthorizedClient is "unauthorized_client": the client may not use this grant.
func UnauthorizedClient(desc string) *Error {
	return &Error{Code: CodeUnauthorizedClient, Description: desc, Status: http.StatusBadRequest}
}

// UnsupportedGrantType is "unsupported_grant_type".
func UnsupportedGrantType(desc string) *Error {
	return &Error{Code: CodeUnsupportedGrantType, Description: desc, Status: http.StatusBadRequest}
}

// InvalidScope is "invalid_scope".
func InvalidScope(desc string) *Error {
	return &Error{Code: CodeInvalidScope, Description: desc, Status: http.StatusBadRequest}
}

// MethodNotAllowed answers a request with the wrong HTTP method; allow is the
// value of the Allow header.
func MethodNotAllowed(allow string) *Error {
	return &Error{
		Code: CodeInvalidRequest, Description: "method not allowed; use " + allow,
		Status: http.StatusMethodNotAllowed, allow: allow,
	}
}

// TooManyRequests refuses a request over a throttle or rate limit (RFC 6585
// §4: 429 with Retry-After); desc says which kind, never which account.
func TooManyRequests(desc string, retryAfter time.Duration) *Error {
	return &Error{
		Code: CodeSlowDown, Description: desc,
		Status: http.StatusTooManyRequests, RetryAfter: retryAfter,
	}
}

// Unavailable is a 503: a dependency (the store, the hash pool) cannot serve
// the request now. The request had no effect.
func Unavailable(desc string, retryAfter time.Duration, cause error) *Error {
	return &Error{
		Code: CodeTemporarilyUnavailable, Description: desc,
		Status: http.StatusServiceUnavailable, RetryAfter: retryAfter, Cause: cause,
	}
}

// StoreRetryAfter is the Retry-After of a 503 for an unreachable store,
// and of one for revocation state that cannot be checked.
const StoreRetryAfter = time.Second

// StoreUnavailable is the 503 of every endpoint whose store (Redis) cannot
// answer: fail closed, and ask the client to come back in a second.
func StoreUnavailable(cause error) *Error {
	e := Unavailable("store unavailable", StoreRetryAfter, cause)
	e.storeDown = true
	return e
}

// RevocationUnavailable is the 503 of every check of a valid token whose
// revocation state cannot be consulted (a stale mirror): the token may
// well be good, so it is neither let through nor challenged. Retry-After
// is StoreRetryAfter; WithRetryAfter sets another.
func RevocationUnavailable(cause error) *Error {
	return Unavailable("revocation state unavailable; retry later", StoreRetryAfter, cause)
}

// KeysUnavailable is the 503 of every endpoint that signs or validates
// tokens while the server has no signing keys yet (waiting for its key
// Secret): fail closed, and ask the client to come back in a second.
func KeysUnavailable(cause error) *Error {
	return Unavailable("signing keys not loaded yet", StoreRetryAfter, cause)
}

// WithRetryAfter returns a copy of e with the given Retry-After.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// ServerError is a 500 for a bug; the cause is logged, never shown.
func ServerError(cause error) *Error {
	return &Error{
		Code: CodeServerError, Description: "internal error",
		Status: http.StatusInternalServerError, Cause: cause,
	}
}

// As converts any error into an *Error: an *Error anywhere in the chain is
// used as it is, anything else becomes a server_error.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ServerError(err)
}

// body is the JSON error document of RFC 6749 §5.2.
type body struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// ErrorObserver is told of every error WriteError renders: a
// ResponseWriter that implements it, or one it wraps (through the Unwrap
// method http.ResponseController follows), is. The token server's request
// metrics are one, and count the 503s of an unreachable store by route in
// this one place rather than in every endpoint.
type ErrorObserver interface {
	ObserveError(e *Error)
}

// observe tells the first ErrorObserver among w and the writers it wraps.
func observe(w http.ResponseWriter, e *Error) {
	for w != nil {
		if o, ok := w.(ErrorObserver); ok {
			o.ObserveError(e)
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// WriteError renders err as the JSON error response. It is the only place
// an OAuth error reaches the wire.
func WriteError(w http.ResponseWriter, err error) {
	e := As(err)
	observe(w, e)
	h := w.Header()
	if e.WWWAuthenticate != "" {
		h.Set("WWW-Authenticate", e.WWWAuthenticate)
	}
	if e.allow != "" {
		h.Set("Allow", e.allow)
	}
	if s := e.RetryAfterSeconds(); s > 0 {
		h.Set("Retry-After", strconv.Itoa(s))
	}
	if e.Code == "" {
		// RFC 6750 §3.1: a request without credentials gets the challenge
		// and no error information.
		w.WriteHeader(e.Status)
		return
	}
	WriteJSON(w, e.Status, body{Error: e.Code, ErrorDescription: e.Description})
}

// WriteJSON writes v as a JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NoStore sets the headers RFC 6749 §5.1 requires on responses carrying
// tokens or credentials.
func NoStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

// RetryAfterSeconds is the Retry-After the response carries, in whole
// seconds rounded up (at least 1); 0 without one.
func (e *Error) RetryAfterSeconds() int {
	if e.RetryAfter <= 0 {
		return 0
	}
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}
