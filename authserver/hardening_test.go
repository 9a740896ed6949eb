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
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/store"
)

// metric reads one sample from the ops listener, 0 when absent.
func (ts *testServer) metric(t *testing.T, name string) float64 {
	t.Helper()
	body := ts.doOn(ts.srv.OpsHandler(), http.MethodGet, "/metrics").Body.String()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const hashCount = "authstack_password_hash_duration_seconds_count"

// Every way of getting the credentials wrong costs exactly one hash: a
// regression that skipped it for unknown or disabled users would show.
func TestEveryBadCredentialCostsOneHash(t *testing.T) {
	ts := newTestServer(t)
	for _, kv := range [][]string{
		{"username", "alice", "password", "wrong"},
		{"username", "mallory", "password", "wrong"},
		{"username", "carol", "password", carolPassword},
		{"username", "bob", "password", "wrong"},
	} {
		before := ts.metric(t, hashCount)
		ts.token(append([]string{"grant_type", "password"}, kv...)...)
		if got := ts.metric(t, hashCount) - before; got != 1 {
			t.Errorf("%v cost %v hashes, want 1", kv, got)
		}
	}
}

// A username no user can have is refused with the same body, before the
// store or the hash pool is touched.
func TestImpossibleUsernamesAreRefusedBeforeTheStore(t *testing.T) {
	ts := newTestServer(t)
	want := ts.token("grant_type", "password", "username", "mallory", "password", "x").Body.String()
	before := ts.metric(t, hashCount)
	for _, name := range []string{strings.Repeat("a", 254), "has space", "a{b}", "ünïcode", "a:b"} {
		rec := ts.token("grant_type", "password", "username", name, "password", "x")
		if rec.Code != http.StatusBadRequest || rec.Body.String() != want {
			t.Errorf("%q: %d %s", name, rec.Code, rec.Body)
		}
	}
	if got := ts.metric(t, hashCount); got != before {
		t.Errorf("impossible usernames were hashed: %v", got-before)
	}
	// They are not counted against the address either.
	for i := 0; i < 30; i++ {
		ts.token("grant_type", "password", "username", "not valid", "password", "x")
	}
	if rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword); rec.Code != http.StatusOK {
		t.Fatalf("alice after impossible usernames: %d", rec.Code)
	}
}

// RFC 6749 §2.3.1: client secrets are guarded against brute force like
// passwords, per client and address; the legitimate client elsewhere is not
// locked out.
func TestClientSecretGuessingIsThrottled(t *testing.T) {
	ts := newTestServer(t)
	const attacker = "203.0.113.40:1"
	body := form("grant_type", "password", "username", "alice", "password", alicePassword)
	for i := 0; i < 5; i++ {
		rec := ts.do(request{body: body, remote: attacker, headers: map[string]string{"Authorization": basic("billing", "guess-"+strconv.Itoa(i))}})
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, rec.Code)
		}
	}
	rec := ts.do(request{body: body, remote: attacker, headers: map[string]string{"Authorization": basic("billing", billingSecret)}})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("after 5 wrong secrets: %d, want 429 with Retry-After", rec.Code)
	}
	rec = ts.do(request{body: body, remote: "198.51.100.9:1", headers: map[string]string{"Authorization": basic("billing", billingSecret)}})
	if rec.Code != http.StatusOK {
		t.Fatalf("the real client elsewhere: %d", rec.Code)
	}
	// client_secret_post is counted the same way.
	ts2 := newTestServer(t)
	for i := 0; i < 5; i++ {
		ts2.do(request{body: form("grant_type", "password", "client_id", "billing", "client_secret", "x"+strconv.Itoa(i)), remote: attacker})
	}
	if rec := ts2.do(request{body: form("grant_type", "password", "client_id", "billing", "client_secret", "y"), remote: attacker}); rec.Code != http.StatusTooManyRequests {
		t.Fatalf("client_secret_post guessing: %d", rec.Code)
	}
}

// RFC 9068 §4: /userinfo is a resource of this server and refuses tokens
// minted for another audience.
func TestUserinfoRequiresItsAudience(t *testing.T) {
	ts := newTestServer(t)
	rec := ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword),
		headers: map[string]string{"Authorization": basic("billing", billingSecret)}})
	tok := decode[tokenResponse](t, rec).AccessToken
	got := ts.userinfo("Bearer " + tok)
	if got.Code != http.StatusUnauthorized || !strings.Contains(got.Header().Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("token for billing at /userinfo: %d %q", got.Code, got.Header().Get("WWW-Authenticate"))
	}
}

func TestErrorDescriptionsKeepToTheRFCCharacterSet(t *testing.T) {
	ts := newTestServer(t)
	allowed := regexp.MustCompile(`^[\x20-\x21\x23-\x5B\x5D-\x7E]*$`)
	for _, body := range []string{
		form("grant_type", `client"credentials\`+"\x01é"),
		form("grant_type", "password", "username", "alice", "password", "x", "scope", `"`),
		"grant_type=password&gr%22ant=1&gr%22ant=2",
	} {
		e := decode[errorResponse](t, ts.do(request{body: body}))
		if e.Error == "" || !allowed.MatchString(e.ErrorDescription) {
			t.Errorf("error_description %q outside RFC 6749 §5.2", e.ErrorDescription)
		}
	}
}

// A stored hash costing more than --hash-cost-factor times the server's
// own (here 16 times) is an invalid hash: the right password fails like a
// wrong one, with the same body, at the cost of one (decoy) hash.
func TestHashAboveTheCostCapFailsLikeAWrongPassword(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.HashCostFactor = 4 }))
	heavy := password.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	h, err := heavy.Hash([]byte("heavy-pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.store.PutUser(t.Context(), store.User{Username: "heavy", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	want := ts.token("grant_type", "password", "username", "heavy", "password", "wrong").Body.String()
	before := ts.metric(t, hashCount)
	rec := ts.token("grant_type", "password", "username", "heavy", "password", "heavy-pw")
	if rec.Code != http.StatusBadRequest || rec.Body.String() != want {
		t.Fatalf("right password, hash above the cap: %d %s, want the wrong-password answer", rec.Code, rec.Body)
	}
	if got := ts.metric(t, hashCount) - before; got != 1 {
		t.Errorf("cost %v hashes, want 1", got)
	}
	if rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword); rec.Code != http.StatusOK {
		t.Fatalf("alice, whose hash is the server's own: %d", rec.Code)
	}
}
