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
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func wrong(ts *testServer, user, remote string, headers map[string]string) int {
	return ts.do(request{body: form("grant_type", "password", "username", user, "password", "guess"), remote: remote, headers: headers}).Code
}

// RFC 6749 §4.3.2: guessing is limited per username and address; the
// limit answers 429 with Retry-After and does not run the hash at all.
func TestThrottlePerUserAndIP(t *testing.T) {
	ts := newTestServer(t) // 5 per user+IP, 20 per IP, 1 minute windows
	const attacker = "203.0.113.66:4000"
	for i := 0; i < 5; i++ {
		if code := wrong(ts, "alice", attacker, nil); code != http.StatusBadRequest {
			t.Fatalf("failure %d: status %d", i+1, code)
		}
	}
	hashes := ts.metric(t, hashCount)
	rec := ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword), remote: attacker})
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("6th attempt: %d %s, want 429 even with the right password", rec.Code, rec.Body)
	}
	if got := ts.metric(t, hashCount) - hashes; got != 0 {
		t.Errorf("the refused attempt cost %v hashes", got)
	}
	if e := decode[errorResponse](t, rec); e.Error == "" {
		t.Error("429 without an error body")
	}
	ra, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q, want 1..60 seconds", rec.Header().Get("Retry-After"))
	}
	assertNoStore(t, rec.Header())

	// The user is not locked out: she logs in from her own address.
	if rec := ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword), remote: "198.51.100.5:1234"}); rec.Code != http.StatusOK {
		t.Fatalf("alice from elsewhere: %d %s", rec.Code, rec.Body)
	}
	// The attacker may still try another user, within the per-IP budget.
	if code := wrong(ts, "bob", attacker, nil); code != http.StatusBadRequest {
		t.Fatalf("other user from the attacker: %d", code)
	}
	// The window passes and the attacker may try again.
	ts.clock.Step(time.Minute)
	if rec := ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword), remote: attacker}); rec.Code != http.StatusOK {
		t.Fatalf("after the window: %d %s", rec.Code, rec.Body)
	}
}

func TestThrottlePerIPAcrossUsernames(t *testing.T) {
	ts := newTestServer(t)
	const sprayer = "203.0.113.77:4000"
	for i := 0; i < 20; i++ {
		if code := wrong(ts, "user"+strconv.Itoa(i), sprayer, nil); code != http.StatusBadRequest {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	if code := wrong(ts, "someone-new", sprayer, nil); code != http.StatusTooManyRequests {
		t.Fatalf("21st username from one address: %d, want 429", code)
	}
}

// Successful logins do not count as failures.
func TestThrottleCountsOnlyFailures(t *testing.T) {
	ts := newTestServer(t)
	for i := 0; i < 30; i++ {
		if rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword); rec.Code != http.StatusOK {
			t.Fatalf("login %d: %d %s", i, rec.Code, rec.Body)
		}
	}
}

// Parallel guesses cannot overshoot the limit while earlier ones are being
// hashed: the attempt is counted before the hash runs.
func TestThrottleHoldsUnderParallelBursts(t *testing.T) {
	ts := newTestServer(t)
	var wg sync.WaitGroup
	codes := make(chan int, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- wrong(ts, "alice", "203.0.113.88:1", nil)
		}()
	}
	wg.Wait()
	close(codes)
	counts := map[int]int{}
	for c := range codes {
		counts[c]++
	}
	if counts[http.StatusBadRequest] != 5 || counts[http.StatusTooManyRequests] != 45 {
		t.Fatalf("outcomes %v, want exactly 5 checked guesses and 45 refused", counts)
	}
}

// X-Forwarded-For is believed only from trusted proxies.
func TestThrottleTrustedProxies(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.TrustedProxies = []string{"10.0.0.0/8"} }))
	proxy := "10.1.1.1:3000"
	// Through the proxy, two clients have separate budgets.
	for i := 0; i < 5; i++ {
		wrong(ts, "alice", proxy, map[string]string{"X-Forwarded-For": "198.51.100.1"})
	}
	if code := wrong(ts, "alice", proxy, map[string]string{"X-Forwarded-For": "198.51.100.1"}); code != http.StatusTooManyRequests {
		t.Fatalf("client behind proxy over its limit: %d", code)
	}
	if code := wrong(ts, "alice", proxy, map[string]string{"X-Forwarded-For": "198.51.100.2"}); code != http.StatusBadRequest {
		t.Fatalf("another client behind the proxy: %d", code)
	}
	// A client that is not a trusted proxy cannot pick its address.
	direct := "203.0.113.9:1"
	for i := 0; i < 5; i++ {
		wrong(ts, "alice", direct, map[string]string{"X-Forwarded-For": "1.1.1." + strconv.Itoa(i)})
	}
	if code := wrong(ts, "alice", direct, map[string]string{"X-Forwarded-For": "1.1.1.99"}); code != http.StatusTooManyRequests {
		t.Fatalf("spoofed X-Forwarded-For escaped the limit: %d", code)
	}
}

// X-Forwarded-For from an untrusted peer is ignored, counted, and warned
// about once: a proxy missing from --trusted-proxies shows up in metrics and
// logs instead of silently pooling every client's budget.
func TestUntrustedForwardedForIsCountedAndWarnedOnce(t *testing.T) {
	ts := newTestServer(t, withConfig(func(c *testConfig) { c.TrustedProxies = []string{"10.0.0.0/8"} }))
	const name = "authstack_forwarded_for_ignored_total"
	wrong(ts, "alice", "10.1.1.1:3000", map[string]string{"X-Forwarded-For": "198.51.100.1"})
	wrong(ts, "alice", "203.0.113.9:1", nil)
	if got := ts.metric(t, name); got != 0 {
		t.Fatalf("%s = %v after a trusted proxy and a direct client", name, got)
	}
	for i := 0; i < 3; i++ {
		wrong(ts, "alice", "203.0.113.9:1", map[string]string{"X-Forwarded-For": "198.51.100.1"})
	}
	if got := ts.metric(t, name); got != 3 {
		t.Fatalf("%s = %v, want 3", name, got)
	}
	if n := strings.Count(ts.logs.String(), "X-Forwarded-For from a peer that is not a trusted proxy"); n != 1 {
		t.Fatalf("warned %d times, want once", n)
	}
}

// A confidential client is a service: many concurrent requests with the
// right secret from one address are never throttled, and leave no count
// behind. (Counting every attempt before the comparison once filled the
// per-client limit with successes in flight and locked the client out for
// the window; reservations are released when the secret matches, and an
// attempt that finds the limit filled only by requests in flight waits
// for one of them.)
func TestConcurrentClientAuthenticationIsNotThrottled(t *testing.T) {
	ts := newTestServer(t)
	const n = 40
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := ts.do(request{path: "/introspect", body: form("token", "x"), remote: "203.0.113.7:1",
				headers: map[string]string{"Authorization": basic("billing", billingSecret)}})
			codes <- rec.Code
		}()
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Fatalf("concurrent request with the right secret: %d", code)
		}
	}
	// Wrong secrets are still counted: five, then 429 even for the right one.
	for i := range 5 {
		rec := ts.do(request{path: "/introspect", body: form("token", "x"), remote: "203.0.113.7:1",
			headers: map[string]string{"Authorization": basic("billing", "wrong-"+strconv.Itoa(i))}})
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("wrong secret %d: %d", i, rec.Code)
		}
	}
	rec := ts.do(request{path: "/introspect", body: form("token", "x"), remote: "203.0.113.7:1",
		headers: map[string]string{"Authorization": basic("billing", billingSecret)}})
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("right secret after five wrong ones: %d", rec.Code)
	}
}

// Failed passwords and failed client secrets count separately: an address
// that used up its password failures (a shared NAT) does not lock a
// confidential client there out of /revoke, /introspect or refresh.
func TestPasswordFailuresDoNotThrottleClientSecrets(t *testing.T) {
	ts := newTestServer(t)
	const addr = "203.0.113.77:1"
	for i := range 25 {
		ts.do(request{body: form("grant_type", "password", "username", "user"+strconv.Itoa(i), "password", "x"), remote: addr})
	}
	rec := ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword), remote: addr})
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("the address's password budget: %d, want 429", rec.Code)
	}
	rec = ts.do(request{path: "/introspect", body: form("token", "x"), remote: addr,
		headers: map[string]string{"Authorization": basic("billing", billingSecret)}})
	if rec.Code != http.StatusOK {
		t.Fatalf("a confidential client at that address: %d", rec.Code)
	}
}
