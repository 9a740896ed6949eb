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
	"net/http"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// A login that issues tokens records the user's last login, in
// FinishLogin's round trip; a failed one records nothing.
func TestLoginRecordsLastLogin(t *testing.T) {
	ts := newTestServer(t)
	if code := wrong(ts, "bob", "198.51.100.7:1", nil); code != http.StatusBadRequest {
		t.Fatalf("wrong password: %d", code)
	}
	ts.login(t)
	a, err := ts.store.ReadActivity(t.Context(), time.Time{}, ts.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := ts.clock.Now().Truncate(time.Millisecond)
	if len(a.Logins) != 1 || !a.Logins["alice"].Equal(want) {
		t.Fatalf("last logins %v, want alice's alone, at %v", a.Logins, want)
	}
}

// A known user's throttled logins reach the store within a flush, with
// the limit and the Retry-After's end; an unknown username's do not.
func TestThrottledKnownUserIsRecorded(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.ThrottleStateEvery = 10 * time.Millisecond }))
	const attacker = "203.0.113.66:4000"
	for _, user := range []string{"mallory", "alice"} { // 5 per user and address
		for i := range 6 {
			code := wrong(ts, user, attacker, nil)
			if want := map[bool]int{true: http.StatusTooManyRequests, false: http.StatusBadRequest}[i == 5]; code != want {
				t.Fatalf("%s, attempt %d: %d, want %d", user, i+1, code, want)
			}
		}
	}
	now := ts.clock.Now()
	var got map[string]store.Throttle
	authtest.Eventually(t, "alice's throttle in the store", func() bool {
		a, err := ts.store.ReadActivity(t.Context(), now, now)
		got = a.Throttles
		return err == nil && len(got) > 0
	})
	// mallory was refused first: her refusal would have been flushed with
	// alice's or before.
	th, ok := got["alice"]
	if len(got) != 1 || !ok {
		t.Fatalf("throttles %v, want alice's alone (mallory has no record)", got)
	}
	w := int64(time.Minute)
	if end := time.Unix(0, (now.UnixNano()/w+1)*w); th.Limit != "user_ip" || !th.Until.Equal(end) {
		t.Fatalf("alice's throttle %+v, want user_ip until %v, the end of the window (the Retry-After)", th, end)
	}
}
