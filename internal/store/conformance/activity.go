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

package conformance

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
)

// readActivity reads the activity, failing t on an error.
func readActivity(t *testing.T, s Store, since, now time.Time) store.UserActivity {
	t.Helper()
	a, err := s.ReadActivity(t.Context(), since, now)
	must(t, "ReadActivity", err)
	return a
}

func wantLogins(t *testing.T, got store.UserActivity, want map[string]time.Time) {
	t.Helper()
	if !maps.EqualFunc(got.Logins, want, time.Time.Equal) {
		t.Fatalf("logins %v, want %v", got.Logins, want)
	}
}

func wantThrottles(t *testing.T, got store.UserActivity, want map[string]store.Throttle) {
	t.Helper()
	if !maps.EqualFunc(got.Throttles, want, func(a, b store.Throttle) bool { return a.Until.Equal(b.Until) && a.Limit == b.Limit }) {
		t.Fatalf("throttles %v, want %v", got.Throttles, want)
	}
}

// A user's last login only moves forward, to the millisecond, and is read
// back when it is after since.
func testActivityLogins(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	wantLogins(t, readActivity(t, s, time.Time{}, now), map[string]time.Time{})
	must(t, "RecordLogin", s.RecordLogin(ctx, "alice", now.Add(-time.Minute)))
	must(t, "RecordLogin", s.RecordLogin(ctx, "alice", now.Add(-2*time.Minute))) // earlier: ignored
	must(t, "RecordLogin", s.RecordLogin(ctx, "a{b}", now.Add(-30*time.Second+time.Microsecond)))
	all := map[string]time.Time{"alice": now.Add(-time.Minute), "a{b}": now.Add(-30 * time.Second)}
	wantLogins(t, readActivity(t, s, time.Time{}, now), all)
	// Strictly after since.
	wantLogins(t, readActivity(t, s, now.Add(-time.Minute), now), map[string]time.Time{"a{b}": now.Add(-30 * time.Second)})
	wantLogins(t, readActivity(t, s, now.Add(-30*time.Second), now), map[string]time.Time{})
	must(t, "RecordLogin", s.RecordLogin(ctx, "alice", now))
	wantLogins(t, readActivity(t, s, now.Add(-time.Second), now), map[string]time.Time{"alice": now})
}

// A user's throttle moves to a later end only, with its limit; one that
// has ended is not read, and is forgotten by the next record.
func testActivityThrottles(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	record := func(th map[string]store.Throttle, at time.Time) {
		t.Helper()
		must(t, "RecordThrottles", s.RecordThrottles(ctx, th, at))
	}
	wantThrottles(t, readActivity(t, s, now, now), map[string]store.Throttle{})
	record(map[string]store.Throttle{
		"alice": {Until: now.Add(time.Minute), Limit: "user_ip"},
		"b{ob}": {Until: now.Add(10 * time.Second), Limit: "user_rate"},
		"carol": {Until: now, Limit: "user_ip"}, // ended already: not recorded
	}, now)
	wantThrottles(t, readActivity(t, s, now, now), map[string]store.Throttle{
		"alice": {Until: now.Add(time.Minute), Limit: "user_ip"},
		"b{ob}": {Until: now.Add(10 * time.Second), Limit: "user_rate"},
	})
	// An earlier end changes nothing, not even the limit; a later one
	// replaces both.
	record(map[string]store.Throttle{"alice": {Until: now.Add(30 * time.Second), Limit: "user_rate"}}, now)
	wantThrottles(t, readActivity(t, s, now, now.Add(20*time.Second)), map[string]store.Throttle{
		"alice": {Until: now.Add(time.Minute), Limit: "user_ip"},
	})
	record(map[string]store.Throttle{"alice": {Until: now.Add(2 * time.Minute), Limit: "user_rate"}}, now.Add(20*time.Second))
	// b{ob}'s ended at now+10s and the last record forgot it: read as of
	// now, only alice is left.
	wantThrottles(t, readActivity(t, s, now, now), map[string]store.Throttle{
		"alice": {Until: now.Add(2 * time.Minute), Limit: "user_rate"},
	})
	// Nothing to record still forgets what ended.
	record(nil, now.Add(3*time.Minute))
	wantThrottles(t, readActivity(t, s, now, now), map[string]store.Throttle{})
}

// One record of many throttles keeps every one.
func testActivityManyThrottles(t *testing.T, s Store) {
	now := time.Now().Truncate(time.Millisecond)
	th := map[string]store.Throttle{}
	for i := range 1234 {
		th[fmt.Sprintf("user%d", i)] = store.Throttle{Until: now.Add(time.Duration(i+1) * time.Millisecond), Limit: "user_ip"}
	}
	must(t, "RecordThrottles", s.RecordThrottles(t.Context(), th, now))
	wantThrottles(t, readActivity(t, s, now, now), th)
}

// A user's activity goes with its record.
func testActivityForgotten(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now().Truncate(time.Millisecond)
	for _, name := range []string{"alice", "bob"} {
		u := sampleUser(name)
		must(t, "PutUser", s.PutUser(ctx, u))
		must(t, "RecordLogin", s.RecordLogin(ctx, name, now))
		must(t, "RecordThrottles", s.RecordThrottles(ctx, map[string]store.Throttle{name: {Until: now.Add(time.Minute), Limit: "user_ip"}}, now))
	}
	if ok, err := s.DeleteUserFrom(ctx, "alice", "other/alice"); err != nil || ok {
		t.Fatalf("DeleteUserFrom of another source: %v, %v", ok, err)
	}
	a := readActivity(t, s, time.Time{}, now)
	if len(a.Logins) != 2 || len(a.Throttles) != 2 {
		t.Fatalf("a refused delete forgot activity: %+v", a)
	}
	if ok, err := s.DeleteUserFrom(ctx, "alice", sampleUser("alice").Source); err != nil || !ok {
		t.Fatalf("DeleteUserFrom: %v, %v", ok, err)
	}
	must(t, "DeleteUser", s.DeleteUser(ctx, "bob"))
	a = readActivity(t, s, time.Time{}, now)
	wantLogins(t, a, map[string]time.Time{})
	wantThrottles(t, a, map[string]store.Throttle{})
}

// FinishLogin records the last login it is given, at its now.
func testLoginFinishRecordsLogin(t *testing.T, s Store) {
	ctx := t.Context()
	now := within(time.Minute, time.Second).Truncate(time.Millisecond)
	ok := attempt("s1", limit("ip", 5, time.Minute))
	admit(t, s, ok, now)
	_, err := s.FinishLogin(ctx, store.LoginEnd{Reservation: ok, Outcome: store.Failed}, now)
	must(t, "FinishLogin", err)
	wantLogins(t, readActivity(t, s, time.Time{}, now), map[string]time.Time{})
	sess := newSession("login1", now)
	admit(t, s, ok, now)
	_, err = s.FinishLogin(ctx, store.LoginEnd{Reservation: ok, Outcome: store.Succeeded, Session: &sess, LastLogin: "alice"}, now)
	must(t, "FinishLogin", err)
	wantLogins(t, readActivity(t, s, time.Time{}, now), map[string]time.Time{"alice": now})
	// Without a session (a client without refresh tokens) as well.
	later := now.Add(time.Second)
	_, err = s.FinishLogin(ctx, store.LoginEnd{LastLogin: "alice"}, later)
	must(t, "FinishLogin", err)
	wantLogins(t, readActivity(t, s, now, later), map[string]time.Time{"alice": later})
}
