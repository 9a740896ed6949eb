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

package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/authserver/audit"
	"github.com/authstack/authstack/internal/oauth"
)

// lines parses a trail's JSON lines.
func lines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// Every field of the schema, by its name, in RFC 3339 UTC time with
// milliseconds, with the marker and without a level; empty fields are
// left out.
func TestEventSchema(t *testing.T) {
	at := time.Date(2026, 12, 2, 15, 4, 5, 678_900_000, time.FixedZone("CET", 3600))
	var buf bytes.Buffer
	l := audit.New(&buf, clocktesting.NewFakePassiveClock(at))
	l.Record(context.Background(), audit.Event{
		Event: audit.Login, Outcome: audit.Success, Endpoint: audit.EndpointToken, GrantType: "password",
		Username: "alice", ClientID: "billing", SourceIP: netip.MustParseAddr("2001:db8::1"), SessionID: "sid-1",
	})
	l.Record(context.Background(), audit.Event{Endpoint: audit.EndpointRevoke, SourceIP: netip.MustParseAddr("192.0.2.7")}.
		Refused(oauth.TooManyRequests("too many requests; retry later", 1500*time.Millisecond)))
	got := lines(t, buf.Bytes())
	want := []map[string]any{
		{"time": "2026-12-02T14:04:05.678Z", "msg": "Login", "logger": "audit", "event": "login", "outcome": "success",
			"endpoint": "token", "grant_type": "password", "username": "alice", "client_id": "billing",
			"source_ip": "2001:db8::1", "session_id": "sid-1"},
		{"time": "2026-12-02T14:04:05.678Z", "msg": "Refusal", "logger": "audit", "event": "refusal", "outcome": "slow_down",
			"endpoint": "revoke", "source_ip": "192.0.2.7", "reason": "too many requests; retry later", "retry_after": float64(2)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events\n%v\nwant\n%v", got, want)
	}
	// The marker comes first after the fixed keys, so a shipper matching
	// the text finds it at the same place on every line.
	if !strings.HasPrefix(buf.String(), `{"time":"2026-12-02T14:04:05.678Z","msg":"Login","logger":"audit","event":"login"`) {
		t.Errorf("line %q", strings.SplitN(buf.String(), "\n", 2)[0])
	}
}

// The fields an event leaves empty are its context's Origin's.
func TestOriginFillsTheEmptyFields(t *testing.T) {
	var buf bytes.Buffer
	l := audit.New(&buf, nil)
	ctx := audit.WithOrigin(context.Background(), audit.Origin{
		Endpoint: audit.EndpointToken, GrantType: "refresh_token", SourceIP: netip.MustParseAddr("198.51.100.2"),
	})
	l.Record(ctx, audit.Event{Event: audit.Revocation, Outcome: audit.Success, SessionID: "s"})
	l.Record(ctx, audit.Event{Event: audit.Revocation, Outcome: audit.Success, Endpoint: audit.EndpointRevoke, GrantType: "x",
		SourceIP: netip.MustParseAddr("192.0.2.1")})
	got := lines(t, buf.Bytes())
	if len(got) != 2 || got[0]["endpoint"] != "token" || got[0]["grant_type"] != "refresh_token" || got[0]["source_ip"] != "198.51.100.2" ||
		got[1]["endpoint"] != "revoke" || got[1]["grant_type"] != "x" || got[1]["source_ip"] != "192.0.2.1" {
		t.Fatalf("events %v", got)
	}
}

// Refused takes the OAuth error's code, description and Retry-After; an
// error that is not one is a server_error with a fixed description, never
// its text.
func TestRefused(t *testing.T) {
	e := audit.Event{Username: "alice"}.Refused(oauth.InvalidGrant("invalid username or password"))
	if e.Event != audit.Refusal || e.Outcome != "invalid_grant" || e.Reason != "invalid username or password" || e.RetryAfter != 0 || e.Username != "alice" {
		t.Errorf("%+v", e)
	}
	e = audit.Event{}.Refused(errors.New("redis: secret-host:6379 refused"))
	if e.Outcome != "server_error" || strings.Contains(e.Reason, "secret-host") {
		t.Errorf("%+v", e)
	}
}

// Successes are always written; refusals of one kind (endpoint, grant
// type, outcome) are sampled, a burst and then two a second, and the rest
// counted in a summary line of the same schema. Kinds are sampled apart:
// a flood of one hides no other.
func TestRefusalsAreSampledSuccessesNever(t *testing.T) {
	clk := clocktesting.NewFakePassiveClock(time.Unix(1_800_000_000, 0))
	var buf bytes.Buffer
	l := audit.New(&buf, clk)
	ctx := context.Background()
	spray := audit.Event{Endpoint: audit.EndpointToken, GrantType: "password"}.Refused(oauth.InvalidGrant("invalid username or password"))
	for i := range 1000 {
		spray.Username = "user" + string(rune('a'+i%26)) // a client's choice: not part of the kind
		l.Record(ctx, spray)
		if i%100 == 0 {
			l.Record(ctx, audit.Event{Event: audit.Login, Outcome: audit.Success, Endpoint: audit.EndpointToken, GrantType: "password"})
		}
	}
	other := audit.Event{Endpoint: audit.EndpointToken, GrantType: "refresh_token"}.Refused(oauth.InvalidGrant("invalid refresh token"))
	l.Record(ctx, other)
	count := func(field, value string) int {
		n := 0
		for _, e := range lines(t, buf.Bytes()) {
			if e[field] == value {
				n++
			}
		}
		return n
	}
	if n := count("event", "login"); n != 10 {
		t.Fatalf("%d of 10 logins written", n)
	}
	if n := count("grant_type", "password") - 10; n != 10 {
		t.Fatalf("%d of 1000 refusals written, want the burst, 10", n)
	}
	if n := count("grant_type", "refresh_token"); n != 1 {
		t.Fatalf("a refusal of another kind: %d written", n)
	}
	// Two a second after the burst.
	clk.SetTime(clk.Now().Add(time.Second))
	for range 10 {
		l.Record(ctx, spray)
	}
	if n := count("grant_type", "password") - 10; n != 12 {
		t.Fatalf("a second later: %d refusals written in all, want 12", n)
	}
	// The summary, on the audit trail, in its schema.
	buf.Reset()
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	l.Run(ctx, time.Hour) // ended: summarises once
	got := lines(t, buf.Bytes())
	want := []map[string]any{{
		"time": "2027-01-15T08:00:01.000Z", "msg": "Refusals suppressed", "logger": "audit", "event": "refusal",
		"outcome": "invalid_grant", "endpoint": "token", "grant_type": "password", "suppressed": float64(1010 - 12),
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("summary\n%v\nwant\n%v", got, want)
	}
	// Nothing left out since: no summary.
	buf.Reset()
	l.Run(ctx, time.Hour)
	if buf.Len() != 0 {
		t.Fatalf("a summary of nothing: %s", buf.String())
	}
}

func TestNilLoggerRecordsNothing(t *testing.T) {
	var l *audit.Logger
	l.Record(context.Background(), audit.Event{Event: audit.Login})
	l.Run(context.Background(), time.Second)
}

// --audit-log: stdout, stderr, or a file appended to, created private.
func TestOpen(t *testing.T) {
	for _, dest := range []string{audit.Stdout, audit.Stderr} {
		w, err := audit.Open(dest)
		if err != nil {
			t.Fatalf("%s: %v", dest, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stdout.Stat(); err != nil {
		t.Fatalf("closing the stdout writer closed stdout: %v", err)
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte("earlier\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	audit.New(w, nil).Record(context.Background(), audit.Event{Event: audit.Login, Outcome: audit.Success})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(b), "earlier\n{") || !strings.Contains(string(b), `"event":"login"`) {
		t.Fatalf("file %q, %v: want the event appended", b, err)
	}
	fresh := filepath.Join(t.TempDir(), "new.log")
	w, err = audit.Open(fresh)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new file: %v, %v; want mode 0600", fi, err)
	}
	for _, bad := range []string{"", filepath.Join(t.TempDir(), "missing", "audit.log")} {
		if _, err := audit.Open(bad); err == nil || !strings.Contains(err.Error(), "audit log") {
			t.Errorf("Open(%q): %v", bad, err)
		}
	}
}
