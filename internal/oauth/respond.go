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

package oauth

import (
	"log/slog"
	"net/http"
	"strconv"
)

// Sampler decides whether a log line of a kind may be written now
// (authserver/logsample.Sampler is one). A nil *logsample.Sampler writes
// every line.
type Sampler interface {
	Allow(kind string) bool
}

// Responder renders the errors of one endpoint and logs them: the one
// place where both happen, for every endpoint of the token server and for
// the resource-server middleware. Its fields are read-only once in use.
//
// Every error is logged once, as Msg with the caller's attributes, the
// OAuth error code and the status:
//
//   - a 5xx other than 503 (a bug or a misconfiguration) at error level,
//     with its Cause;
//   - a 503 (a dependency that cannot answer) at warning level, with its
//     Cause;
//   - a 4xx at ClientLevel; with a Cause, at warning level when
//     ClientLevel is info or above, so that it stands out of the refusals
//     around it (a session ended, a stored hash that cannot be read).
//     Below info (endpoints whose refusals are routine, such as expired
//     bearer tokens) a 4xx stays at ClientLevel, with its Cause.
//
// An invalid_token line also carries the reason told to the client (one
// of a fixed set). Nothing else of the request is logged: no parameter,
// header or token, since a login's username field may hold a mistyped
// password. With a Sample, lines of one kind (Msg, the caller's kind, the
// code and the status: a bounded set) are sampled under a flood; without
// one every line is written.
type Responder struct {
	// Log receives the lines; nil discards them.
	Log *slog.Logger
	// Msg is the message of every line, such as "Token request refused".
	Msg string
	// Sample, if set, keeps floods of like lines out of the log.
	Sample Sampler
	// ClientLevel is the level of 4xx lines (the zero value is
	// slog.LevelInfo); see above for those with a cause.
	ClientLevel slog.Level
}

// Respond writes err as the OAuth error response (WriteError) and logs it.
// kind, which may be empty, refines the sampling kind (the token endpoint
// gives its grant type); attrs are added to the line first, and must hold
// nothing secret.
func (p *Responder) Respond(w http.ResponseWriter, r *http.Request, err error, kind string, attrs ...any) {
	e := As(err)
	p.log(r, e, kind, attrs)
	WriteError(w, e)
}

// Note logs err as Respond does, without writing a response: for an
// endpoint that answers a refusal in a format of its own (the Kubernetes
// TokenReview webhook answers 200 with authenticated: false).
func (p *Responder) Note(r *http.Request, err error, kind string, attrs ...any) {
	p.log(r, As(err), kind, attrs)
}

func (p *Responder) log(r *http.Request, e *Error, kind string, attrs []any) {
	if p == nil || p.Log == nil {
		return
	}
	level := p.ClientLevel
	switch {
	case e.Status >= 500 && e.Status != http.StatusServiceUnavailable:
		level = slog.LevelError
	case e.Status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	case e.Cause != nil && level >= slog.LevelInfo:
		level = slog.LevelWarn
	}
	if !p.Log.Enabled(r.Context(), level) {
		return
	}
	if p.Sample != nil {
		k := p.Msg
		if kind != "" {
			k += " " + kind
		}
		if !p.Sample.Allow(k + " " + e.Code + " " + strconv.Itoa(e.Status)) {
			return
		}
	}
	attrs = append(attrs[:len(attrs):len(attrs)], "error", e.Code, "status", e.Status)
	if e.Code == CodeInvalidToken {
		attrs = append(attrs, "reason", e.Description)
	}
	if e.Cause != nil {
		attrs = append(attrs, "cause", e.Cause.Error())
	}
	p.Log.Log(r.Context(), level, p.Msg, attrs...)
}
