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

package oauth_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/oauth"
)

type denyAll struct{ asked []string }

func (d *denyAll) Allow(kind string) bool { d.asked = append(d.asked, kind); return false }

// Respond renders the error and logs it by status class: 5xx at ERROR, 503
// at WARN, both with the cause; a 4xx at ClientLevel, raised to WARN by a
// cause only when ClientLevel is INFO or above.
func TestRespondLogsByStatusClass(t *testing.T) {
	cause := errors.New("redis: connection refused")
	for _, tc := range []struct {
		name        string
		err         error
		clientLevel slog.Level
		level       string
		withCause   bool
	}{
		{"bug", errors.New("nil map"), slog.LevelInfo, "ERROR", true},
		{"unavailable", oauth.StoreUnavailable(cause), slog.LevelDebug, "WARN", true},
		{"revocation unavailable", oauth.RevocationUnavailable(cause), slog.LevelInfo, "WARN", true},
		{"client error", oauth.InvalidRequest("missing parameter: token"), slog.LevelInfo, "INFO", false},
		{"client error with a cause", oauth.InvalidGrant("bad").WithCause(cause), slog.LevelInfo, "WARN", true},
		{"routine client error with a cause", oauth.BearerChallenge(oauth.CodeInvalidToken, "token expired").WithCause(cause), slog.LevelDebug, "DEBUG", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := &oauth.Responder{Log: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
				Msg: "Refused", ClientLevel: tc.clientLevel}
			rec := httptest.NewRecorder()
			p.Respond(rec, httptest.NewRequest(http.MethodGet, "/", nil), tc.err, "", "endpoint", "test")
			e := oauth.As(tc.err)
			if rec.Code != e.Status {
				t.Errorf("status %d, want %d", rec.Code, e.Status)
			}
			var l map[string]any
			if err := json.Unmarshal(buf.Bytes(), &l); err != nil {
				t.Fatalf("log %q: %v", buf.String(), err)
			}
			_, hasCause := l["cause"]
			if l["msg"] != "Refused" || l["level"] != tc.level || l["endpoint"] != "test" || l["status"] != float64(e.Status) ||
				l["error"] != e.Code || hasCause != tc.withCause {
				t.Errorf("log line %v, want level %s, cause %v", l, tc.level, tc.withCause)
			}
		})
	}
}

// With a Sample, every line is asked for by kind (message, caller's kind,
// code and status) and left out when refused; the answer is written all
// the same.
func TestRespondSamples(t *testing.T) {
	var buf bytes.Buffer
	d := &denyAll{}
	p := &oauth.Responder{Log: slog.New(slog.NewJSONHandler(&buf, nil)), Msg: "Token request refused", Sample: d}
	rec := httptest.NewRecorder()
	p.Respond(rec, httptest.NewRequest(http.MethodPost, "/token", nil), oauth.InvalidGrant("bad"), "password")
	if rec.Code != http.StatusBadRequest || buf.Len() != 0 {
		t.Errorf("status %d, log %q; want 400 and no line", rec.Code, buf.String())
	}
	if len(d.asked) != 1 || d.asked[0] != "Token request refused password invalid_grant 400" {
		t.Errorf("sampler asked %q", d.asked)
	}
	// Note logs and samples as Respond does, and writes nothing.
	d.asked = nil
	p.Note(httptest.NewRequest(http.MethodPost, "/tokenreview", nil), oauth.BearerChallenge(oauth.CodeInvalidToken, "token revoked"), "")
	if buf.Len() != 0 || len(d.asked) != 1 || d.asked[0] != "Token request refused invalid_token 401" {
		t.Errorf("Note: log %q, sampler asked %q", buf.String(), d.asked)
	}
	// A nil Log discards.
	(&oauth.Responder{}).Respond(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil), errors.New("x"), "")
}

// observer is a ResponseWriter that remembers the errors rendered to it.
type observer struct {
	http.ResponseWriter
	seen []*oauth.Error
}

func (o *observer) ObserveError(e *oauth.Error) { o.seen = append(o.seen, e) }

// wrapper wraps a ResponseWriter as middleware does.
type wrapper struct{ http.ResponseWriter }

func (w wrapper) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// WriteError tells the ErrorObserver among the writers, however deeply
// wrapped, of the error it renders; only StoreUnavailable's is StoreDown,
// whatever is added to it.
func TestWriteErrorTellsTheObserver(t *testing.T) {
	cause := errors.New("redis: connection refused")
	for _, tc := range []struct {
		name      string
		err       error
		storeDown bool
	}{
		{"store", oauth.StoreUnavailable(cause), true},
		{"store, another Retry-After", oauth.StoreUnavailable(cause).WithRetryAfter(3 * time.Second), true},
		{"store, wrapped", fmt.Errorf("login: %w", oauth.StoreUnavailable(cause)), true},
		{"revocation state", oauth.RevocationUnavailable(cause), false},
		{"keys", oauth.KeysUnavailable(cause), false},
		{"hash pool", oauth.Unavailable("busy", time.Second, nil), false},
		{"bug", cause, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := &observer{ResponseWriter: httptest.NewRecorder()}
			oauth.WriteError(wrapper{wrapper{o}}, tc.err)
			if len(o.seen) != 1 || o.seen[0].StoreDown() != tc.storeDown || o.seen[0].Status != oauth.As(tc.err).Status {
				t.Fatalf("observed %v, want one error, StoreDown %v", o.seen, tc.storeDown)
			}
		})
	}
	// A writer that is no observer and wraps none is written to as before.
	rec := httptest.NewRecorder()
	oauth.WriteError(rec, oauth.StoreUnavailable(cause))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", rec.Code)
	}
}
