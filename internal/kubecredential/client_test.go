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

package kubecredential_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/internal/kubecredential"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// A login prints an ExecCredential whose token kube-apiserver would take
// (iss, aud kubernetes, alice's groups) and whose expirationTimestamp is
// the token's expiry less the margin; the cache file is 0600 in a 0700
// directory and holds no password.
func TestLoginPrintsAValidExecCredential(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	start := c.clock.Now()
	e, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out, err := kubecredential.ExecCredential(e)
	if err != nil {
		t.Fatal(err)
	}
	var ec clientauthv1.ExecCredential
	if err := json.Unmarshal(out, &ec); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if ec.APIVersion != "client.authentication.k8s.io/v1" || ec.Kind != "ExecCredential" || ec.Status == nil {
		t.Fatalf("not a v1 ExecCredential: %s", out)
	}
	claims, err := ts.validator().Validate(ec.Status.Token)
	if err != nil {
		t.Fatalf("the token does not validate for audience %s: %v", audience, err)
	}
	if claims.Subject != "alice" || len(claims.Groups) != 1 || claims.Groups[0] != "readers" {
		t.Errorf("claims: sub %q groups %v", claims.Subject, claims.Groups)
	}
	if !ts.active(ec.Status.Token) {
		t.Error("/introspect says the token is not active")
	}
	// 5 min less the 30 s margin, from when the token was asked for;
	// metav1.Time keeps whole seconds.
	want := start.Add(accessTTL - 30*time.Second).Truncate(time.Second)
	if got := ec.Status.ExpirationTimestamp; got == nil || !got.Time.Equal(want) {
		t.Errorf("expirationTimestamp = %v, want %v", got, want)
	}

	path := c.Cache.Path(c.Key)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("cache dir mode %v, want 0700", di.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), alicePassword) {
		t.Error("the cache holds the password")
	}
	if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tmp-*")); len(tmp) != 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// A second login while the cached token is good asks the server nothing,
// and asks no password.
func TestSecondLoginMakesNoRequest(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	first, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	before := ts.total()
	c.clock.Step(accessTTL / 2)
	second, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n := ts.total() - before; n != 0 {
		t.Errorf("the second login made %d requests", n)
	}
	if second.AccessToken != first.AccessToken || c.passwords.Load() != 1 {
		t.Errorf("not the cached token (passwords asked: %d)", c.passwords.Load())
	}
}

// Once the cached access token is past its expiry (less the margin), the
// refresh token gets a new one: one token request, no password.
func TestExpiredTokenIsRefreshed(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	first, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tokens := ts.count("/token")
	c.clock.Step(accessTTL - 30*time.Second)
	second, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ts.count("/token") != tokens+1 || c.passwords.Load() != 1 {
		t.Errorf("token requests %d → %d, passwords asked %d: want one refresh and no password", tokens, ts.count("/token"), c.passwords.Load())
	}
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken {
		t.Error("the refresh returned the old tokens")
	}
	if _, err := ts.validator().Validate(second.AccessToken); err != nil {
		t.Fatalf("the refreshed token: %v", err)
	}
	cached, err := c.Cache.Load(c.Key)
	if err != nil || cached == nil || cached.RefreshToken != second.RefreshToken {
		t.Errorf("the cache does not hold the rotated refresh token: %v", err)
	}
}

// Plugin runs at once, their token expired, refresh it once between them
// (the cache is locked): a second refresh with the same refresh token
// would be taken for a stolen one, and the server would end the session.
func TestConcurrentRunsRefreshOnce(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	if _, err := c.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	tokens := ts.count("/token")
	c.clock.Step(accessTTL)
	const runs = 8
	errs := make(chan error, runs)
	for range runs {
		run := *c.Client // a plugin run of its own, on the same cache
		go func() {
			_, err := run.Token(t.Context())
			errs <- err
		}()
	}
	for range runs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := ts.count("/token") - tokens; n != 1 || c.passwords.Load() != 1 {
		t.Errorf("%d token requests, %d passwords asked: want one refresh and no password", n, c.passwords.Load())
	}
}

// A refresh the server refuses (the session was revoked) leads to the
// password, once.
func TestRevokedRefreshFallsBackToThePassword(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	first, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if code := ts.post("/revoke", url.Values{"token": {first.RefreshToken}, "client_id": {clientID}}); code != http.StatusOK {
		t.Fatalf("revoke: %d", code)
	}
	c.clock.Step(accessTTL)
	second, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if c.passwords.Load() != 2 {
		t.Errorf("passwords asked %d, want 2", c.passwords.Load())
	}
	if _, err := ts.validator().Validate(second.AccessToken); err != nil {
		t.Fatal(err)
	}
}

// A refresh that cannot reach the server is reported, not turned into a
// password prompt.
func TestUnreachableServerIsReportedNotPrompted(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	if _, err := c.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	ts.https.Close()
	c.clock.Step(accessTTL)
	_, err := c.Token(t.Context())
	if err == nil || !strings.Contains(err.Error(), "cannot reach the server") {
		t.Fatalf("err = %v", err)
	}
	if c.passwords.Load() != 1 {
		t.Errorf("passwords asked %d, want no new prompt", c.passwords.Load())
	}
}

// A wrong password says so in words, and writes no cache.
func TestWrongPassword(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	c.password = "not-the-password"
	_, err := c.Token(t.Context())
	if !errors.Is(err, kubecredential.ErrWrongPassword) || err.Error() != "the username or password is wrong" {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(c.Cache.Path(c.Key)); !os.IsNotExist(err) {
		t.Errorf("a cache file was written: %v", err)
	}
}

// Past the throttle's limit, the login says when to try again.
func TestThrottledLoginSaysWhenToRetry(t *testing.T) {
	ts := newTestServer(t, func(c *authserver.Config) { c.PerUserIP = throttle.Limit{Max: 2, Window: time.Minute} })
	c := ts.client()
	c.password = "not-the-password"
	msg := regexp.MustCompile(`^too many failed logins; try again in [1-9][0-9]* s$`)
	var err error
	for range 5 {
		if _, err = c.Token(t.Context()); err != nil && msg.MatchString(err.Error()) {
			return
		}
	}
	t.Fatalf("after 5 wrong passwords with a limit of 2: %v", err)
}

// A discovery document that names another issuer is refused.
func TestIssuerMismatchIsRefused(t *testing.T) {
	ts := newTestServer(t, func(c *authserver.Config) { c.Issuer = "https://auth.example.test" })
	c := ts.client()
	_, err := c.Token(t.Context())
	if err == nil || !strings.Contains(err.Error(), `names the issuer "https://auth.example.test"`) {
		t.Fatalf("err = %v", err)
	}
	if c.passwords.Load() != 0 || ts.count("/token") != 0 {
		t.Error("the login went on after the mismatch")
	}
}

// A server whose certificate the client has no CA for is refused, in
// words that name the flag.
func TestUntrustedCertificate(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	hc, err := kubecredential.NewHTTPClient("", false)
	if err != nil {
		t.Fatal(err)
	}
	c.HTTP = hc
	_, err = c.Token(t.Context())
	if err == nil || !strings.Contains(err.Error(), "not trusted; give the CA that signed it with --certificate-authority") {
		t.Fatalf("err = %v", err)
	}
}

// Logout revokes the session: its access token is inactive at /introspect,
// its refresh token by /token, and the cache file is gone. A second
// logout finds nothing and succeeds.
func TestLogoutRevokes(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client()
	e, err := c.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !ts.active(e.AccessToken) {
		t.Fatal("the token is not active before the logout")
	}
	found, err := c.Logout(t.Context())
	if err != nil || !found {
		t.Fatalf("logout: %v, %v", found, err)
	}
	if ts.count("/revoke") != 2 {
		t.Errorf("%d revocation requests, want the refresh token's and the access token's", ts.count("/revoke"))
	}
	authtest.Eventually(t, "/introspect to call the revoked token inactive", func() bool { return !ts.active(e.AccessToken) })
	if code := ts.post("/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {e.RefreshToken}, "client_id": {clientID}}); code != http.StatusBadRequest {
		t.Errorf("refresh after logout: %d, want 400", code)
	}
	if _, err := os.Stat(c.Cache.Path(c.Key)); !os.IsNotExist(err) {
		t.Errorf("the cache file is still there: %v", err)
	}
	found, err = c.Logout(t.Context())
	if err != nil || found {
		t.Errorf("second logout: %v, %v; want nothing found, no error", found, err)
	}
}
