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

package authserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
)

// outage is a store whose sessions and users can be made unreachable, and
// whose revocation feed can stall (so the mirror goes stale).
type outage struct {
	store.Store
	sessions, users, feed atomic.Bool
}

// The batches call the outage's own methods.
func (o *outage) BeginLogin(ctx context.Context, l store.LoginStart, now time.Time) (store.LoginState, error) {
	return store.BeginLoginOf(ctx, o, l, now)
}

func (o *outage) BeginRefresh(ctx context.Context, id, clientID string) (store.RefreshState, error) {
	return store.BeginRefreshOf(ctx, o, id, clientID)
}

func (o *outage) FinishRefresh(ctx context.Context, username, id string, rot store.Rotation, now time.Time) (store.Refreshed, error) {
	return store.FinishRefreshOf(ctx, o, username, id, rot, now)
}

func (o *outage) GetSession(ctx context.Context, id string) (store.Session, error) {
	if o.sessions.Load() {
		return store.Session{}, errors.New("get session: sessions unreachable in the test")
	}
	return o.Store.GetSession(ctx, id)
}

func (o *outage) GetUser(ctx context.Context, name string) (store.User, error) {
	if o.users.Load() {
		return store.User{}, errors.New("get user: users unreachable in the test")
	}
	return o.Store.GetUser(ctx, name)
}

func (o *outage) ReadRevocations(ctx context.Context, epoch, cursor string, max int) ([]store.RevocationEvent, string, error) {
	if o.feed.Load() {
		return nil, "", errors.New("feed stalled by the test")
	}
	return o.Store.ReadRevocations(ctx, epoch, cursor, max)
}

// logLines returns the JSON log lines with message msg.
func (ts *testServer) logLines(msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(ts.logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// Every endpoint renders and logs its errors in one place: the cause of a
// 503 reaches the log, at WARN, with the status and error code, and no
// token, password or secret does. /introspect, /verify and /userinfo used
// to drop it, and /revoke logged it at INFO.
func TestEveryEndpointLogsTheCauseOfA503(t *testing.T) {
	st := &outage{Store: memory.New()}
	ts := newTestServer(t, withStore(st), withConfig(func(c *testConfig) { c.MaxStaleness = 100 * time.Millisecond }))
	tok := ts.mustToken()
	session := ts.login(t)

	// expect checks that rec is a 503 and that the one line logged as msg
	// since the last call carries a cause holding cause.
	seen := map[string]int{}
	expect := func(name string, rec *httptestRecorder, msg, cause string) {
		t.Helper()
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s: %d %s, want 503", name, rec.Code, rec.Body)
		}
		lines := ts.logLines(msg)
		if len(lines) != seen[msg]+1 {
			t.Fatalf("%s: %d lines %q, want one more than %d", name, len(lines), msg, seen[msg])
		}
		seen[msg] = len(lines)
		l := lines[len(lines)-1]
		if l["level"] != "WARN" || l["status"] != float64(503) || l["error"] != "temporarily_unavailable" ||
			!strings.Contains(l["cause"].(string), cause) {
			t.Errorf("%s: log line %v, want WARN, 503, temporarily_unavailable and a cause holding %q", name, l, cause)
		}
	}

	st.sessions.Store(true)
	st.users.Store(true)
	expect("token", ts.token("grant_type", "password", "username", "alice", "password", alicePassword),
		"Token request refused", "users unreachable")
	expect("revoke", ts.post("/revoke", billingAuth, "token", session.RefreshToken), "Revocation refused", "sessions unreachable")
	expect("introspect a refresh token", ts.post("/introspect", billingAuth, "token", session.RefreshToken),
		"Introspection refused", "sessions unreachable")

	st.feed.Store(true)
	ts.waitStale()
	expect("introspect an access token", ts.post("/introspect", billingAuth, "token", session.AccessToken),
		"Introspection refused", "revocation state is stale")
	expect("verify", ts.do(request{method: http.MethodGet, path: "/verify", headers: map[string]string{"Authorization": "Bearer " + tok}}),
		"Verification refused", "revocation state is stale")
	expect("userinfo", ts.userinfo("Bearer "+tok), "Userinfo request refused", "revocation state is stale")

	logs := ts.logs.String()
	for _, secret := range []string{tok, session.AccessToken, session.RefreshToken, alicePassword, billingSecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a secret: %s", logs)
		}
	}
}

// The bearer endpoints log a refused token at DEBUG, with the reason told
// to the client: a gateway asks /verify about every request, and expired
// tokens are routine.
func TestBearerEndpointsLogRefusalsAtDebug(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken()
	ts.clock.Step(time.Hour)
	for path, msg := range map[string]string{"/verify": "Verification refused", "/userinfo": "Userinfo request refused"} {
		rec := ts.do(request{method: http.MethodGet, path: path, headers: map[string]string{"Authorization": "Bearer " + tok}})
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("%s: %d", path, rec.Code)
		}
		lines := ts.logLines(msg)
		if len(lines) != 1 || lines[0]["level"] != "DEBUG" || lines[0]["error"] != "invalid_token" || lines[0]["reason"] != "token expired" {
			t.Errorf("%s: log lines %v, want one DEBUG invalid_token line with the reason", path, lines)
		}
	}
	if strings.Contains(ts.logs.String(), tok) {
		t.Error("the log holds the token")
	}
}
