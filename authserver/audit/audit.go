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

// Package audit writes the login audit trail: one event per login,
// refresh, revocation and refusal of the token endpoint and /revoke, as a
// JSON line of a fixed schema (docs/operations.md, "Audit trail"), on a
// logger of its own so that it can be shipped apart from the operational
// log. Every line carries "logger":"audit", for a log shipper to route it
// even when it shares a stream with other lines.
//
// Successes are always written. Refusals are sampled by kind (endpoint,
// grant type and outcome: a bounded set, never the username or the
// address, which a client chooses): a burst, then a few a second, and a
// summary line of the refusals left out, in the same schema. So a flood of
// refusals writes a bounded number of lines and hides no success.
//
// An event never holds a password, a token, a client secret or a hash:
// its fields are names, addresses, the session's sid (derived one way from
// the refresh token, so it cannot make one) and the OAuth error's code and
// description, which are shown to the client and hold none of them.
package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/authstack/authstack/authserver/logsample"
	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/oauth"
)

// The events.
const (
	// Login is a successful password or client_credentials grant.
	Login = "login"
	// Refresh is a successful refresh_token grant.
	Refresh = "refresh"
	// Revocation is a session (or an access token) revoked: by its client
	// at /revoke, or by the server (a reused refresh token, a session
	// evicted beyond the user's limit).
	Revocation = "revocation"
	// Refusal is a refused request: the outcome is its OAuth error code.
	Refusal = "refusal"
)

// Success is the outcome of every event but a refusal.
const Success = "success"

// The endpoints.
const (
	EndpointToken  = "token"
	EndpointRevoke = "revoke"
)

// MarkerKey and MarkerValue mark every line of the audit trail.
const (
	MarkerKey   = "logger"
	MarkerValue = "audit"
)

// TimeFormat is the format of the time field: RFC 3339 in UTC, with
// milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// Event is one line of the audit trail. Empty fields are left out.
type Event struct {
	Event   string
	Outcome string
	// Endpoint is EndpointToken or EndpointRevoke.
	Endpoint string
	// GrantType is the token request's grant type ("unknown" when it names
	// none the server serves); empty at /revoke.
	GrantType string
	// Username is the user's: of a success, of a session, or of a refused
	// login when the store holds a user of that name; never the username
	// field of a login for a name no user has, which may be a password
	// typed in the wrong field.
	Username string
	// ClientID is the client the request authenticated as and the
	// endpoint admitted (or the session's, for a session the server ends);
	// empty otherwise, so that a refusal never carries a client ID the
	// request made up.
	ClientID string
	// SourceIP is the client's address as authserver/clientip resolves it.
	SourceIP netip.Addr
	// SessionID is the session's sid, never the refresh token.
	SessionID string
	// Reason is a refusal's error description, or why the server ended a
	// session.
	Reason string
	// RetryAfter is a refusal's Retry-After, in seconds (0: none).
	RetryAfter int
}

// Refused is e as the refusal of err: its OAuth error code, description
// and Retry-After.
func (e Event) Refused(err error) Event {
	oe := oauth.As(err)
	e.Event, e.Outcome, e.Reason, e.RetryAfter = Refusal, oe.Code, oe.Description, oe.RetryAfterSeconds()
	if e.Outcome == "" { // a bare challenge: no code, only a status
		e.Outcome = strconv.Itoa(oe.Status)
	}
	return e
}

// Origin is what every event of one request shares.
type Origin struct {
	Endpoint  string
	GrantType string
	SourceIP  netip.Addr
}

type originKey struct{}

// WithOrigin returns ctx carrying o, for the events recorded with it (or a
// context derived from it) deep in a grant: their empty endpoint, grant
// type and source address are o's.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// Logger writes the audit trail. A nil *Logger writes nothing. It is safe
// for concurrent use.
type Logger struct {
	log    *slog.Logger
	sample *logsample.Sampler
	clock  clock.PassiveClock
}

// New returns a Logger writing JSON lines to w, stamped by clk (the real
// clock when nil), with refusals sampled as logsample's defaults do (ten
// of a kind at once, then two a second).
func New(w io.Writer, clk clock.PassiveClock) *Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: replace})
	return &Logger{
		log:    slog.New(h.WithAttrs([]slog.Attr{slog.String(MarkerKey, MarkerValue)})),
		sample: logsample.New(logsample.DefaultBurst, logsample.DefaultRate, clk),
		clock:  clocks.Or(clk),
	}
}

// replace writes the time in TimeFormat and leaves the level out: an
// audit event is not a message about the server's health, and a shipper
// filtering by level must not drop refusals as warnings or successes as
// info.
func replace(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		return slog.Attr{}
	case slog.TimeKey:
		if t, ok := a.Value.Any().(time.Time); ok {
			return slog.String(slog.TimeKey, t.UTC().Format(TimeFormat))
		}
	}
	return a
}

// messages are the msg of each event's lines, for people reading them.
var messages = map[string]string{
	Login:      "Login",
	Refresh:    "Refresh",
	Revocation: "Revocation",
	Refusal:    "Refusal",
}

// summaryMsg is the msg of a summary of refusals left out.
const summaryMsg = "Refusals suppressed"

// Record writes e, or, for a refusal beyond its kind's sample, counts it
// for the next summary. The endpoint, grant type and source address e
// leaves empty are ctx's Origin's.
func (l *Logger) Record(ctx context.Context, e Event) {
	if l == nil {
		return
	}
	if o, ok := ctx.Value(originKey{}).(Origin); ok {
		if e.Endpoint == "" {
			e.Endpoint = o.Endpoint
		}
		if e.GrantType == "" {
			e.GrantType = o.GrantType
		}
		if !e.SourceIP.IsValid() {
			e.SourceIP = o.SourceIP
		}
	}
	if e.Event == Refusal && !l.sample.Allow(kindOf(e)) {
		return
	}
	l.write(ctx, messages[e.Event], e.attrs())
}

func (l *Logger) write(ctx context.Context, msg string, attrs []slog.Attr) {
	r := slog.NewRecord(l.clock.Now(), slog.LevelInfo, msg, 0)
	r.AddAttrs(attrs...)
	_ = l.log.Handler().Handle(ctx, r)
}

// attrs are e's fields in the schema's order, the empty ones left out.
func (e Event) attrs() []slog.Attr {
	a := make([]slog.Attr, 0, 10)
	str := func(k, v string) {
		if v != "" {
			a = append(a, slog.String(k, v))
		}
	}
	str("event", e.Event)
	str("outcome", e.Outcome)
	str("endpoint", e.Endpoint)
	str("grant_type", e.GrantType)
	str("username", e.Username)
	str("client_id", e.ClientID)
	if e.SourceIP.IsValid() {
		a = append(a, slog.String("source_ip", e.SourceIP.String()))
	}
	str("session_id", e.SessionID)
	str("reason", e.Reason)
	if e.RetryAfter > 0 {
		a = append(a, slog.Int("retry_after", e.RetryAfter))
	}
	return a
}

// kindSep separates the fields of a sampling kind; none of them holds it
// (endpoints, grant types and error codes are fixed words).
const kindSep = "|"

// kindOf is a refusal's sampling kind: its endpoint, grant type and
// outcome.
func kindOf(e Event) string {
	return e.Endpoint + kindSep + e.GrantType + kindSep + e.Outcome
}

// Run writes the summaries of the refusals left out every period until ctx
// ends, and once more then.
func (l *Logger) Run(ctx context.Context, every time.Duration) {
	if l == nil {
		return
	}
	l.sample.Summarize(ctx, every, l.summarize)
}

// summarize writes one line per kind of refusal with some left out: the
// kind's fields and "suppressed", their number.
func (l *Logger) summarize(ctx context.Context) {
	for _, s := range l.sample.Take() {
		e := Event{Event: Refusal}
		if f := strings.Split(s.Kind, kindSep); len(f) == 3 {
			e.Endpoint, e.GrantType, e.Outcome = f[0], f[1], f[2]
		}
		l.write(ctx, summaryMsg, append(e.attrs(), slog.Int64("suppressed", s.Count)))
	}
}

// The destinations of Open besides a file.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// Open returns the writer of an --audit-log destination: Stdout, Stderr,
// or the path of a file, appended to and created (mode 0600) if need be.
// Closing it closes the file; never the standard streams.
func Open(dest string) (io.WriteCloser, error) {
	switch dest {
	case "":
		return nil, errors.New("audit log: empty destination (stdout, stderr or a file path)")
	case Stdout:
		return nopCloser{os.Stdout}, nil
	case Stderr:
		return nopCloser{os.Stderr}, nil
	}
	f, err := os.OpenFile(dest, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return f, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
