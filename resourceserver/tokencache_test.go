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

package resourceserver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// swapSource is a key source a test replaces the key set of.
type swapSource struct{ p atomic.Pointer[signer.KeySet] }

func (s *swapSource) Current() *signer.KeySet { return s.p.Load() }

func (s *swapSource) set(t testing.TB, keys ...*signer.Key) {
	t.Helper()
	if len(keys) == 0 {
		s.p.Store(nil)
		return
	}
	ks, err := signer.NewKeySet(nil, keys...)
	must(t, err)
	s.p.Store(ks)
}

// cacheFixture is an Authenticator with a TokenCache, a settable clock, a
// key set the test changes, a revocation checker it controls, and a count
// of the signature verifications made.
type cacheFixture struct {
	clk        *clocktesting.FakeClock
	keys       *swapSource
	signing    *signer.Key // the key tokens are signed with
	spare      *signer.Key // a second key of the set
	revocation *fakeChecker
	auth       *resourceserver.Authenticator
	verifies   atomic.Int64
}

func newCacheFixture(t testing.TB, o resourceserver.TokenCacheOptions) *cacheFixture {
	t.Helper()
	f := &cacheFixture{
		clk: newClock(), keys: &swapSource{},
		signing: authtest.Key(t, signer.AlgES256), spare: authtest.Key(t, signer.AlgES256),
		revocation: &fakeChecker{},
	}
	f.keys.set(t, f.signing, f.spare)
	f.auth = f.authenticator(resourceserver.NewTokenCache(o), apiAudience)
	return f
}

// authenticator is an Authenticator of the fixture's keys, clock and
// revocation checker with cache, accepting audiences, counting its
// verifications in f.verifies.
func (f *cacheFixture) authenticator(cache *resourceserver.TokenCache, audiences ...string) *resourceserver.Authenticator {
	a := &resourceserver.Authenticator{
		Validator:  &accesstoken.Validator{Keys: f.keys, Issuer: testIssuer, Audiences: audiences, Clock: f.clk},
		Revocation: f.revocation, Cache: cache,
	}
	resourceserver.CountVerifications(a, &f.verifies)
	return a
}

// token issues a token signed by key for subject, living ttl from now.
func (f *cacheFixture) token(t testing.TB, key *signer.Key, subject string, ttl time.Duration) string {
	t.Helper()
	ks, err := signer.NewKeySet(key)
	must(t, err)
	is := &accesstoken.Issuer{Keys: signer.Static(ks), Issuer: testIssuer, Clock: f.clk}
	tok, _, err := is.IssueFor(accesstoken.Request{Subject: subject, ClientID: "cli", Audience: []string{apiAudience}, Groups: []string{"readers"}, TTL: ttl})
	must(t, err)
	return tok
}

func (f *cacheFixture) check(raw string) (*accesstoken.Claims, error) {
	return f.auth.Check(context.Background(), raw)
}

// accept checks raw, which must be accepted for subject, after which the
// fixture must have made verifies verifications in all.
func (f *cacheFixture) accept(t *testing.T, raw, subject string, verifies int64) {
	t.Helper()
	c, err := f.check(raw)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if c.Subject != subject {
		t.Fatalf("subject %q, want %q", c.Subject, subject)
	}
	if got := f.verifies.Load(); got != verifies {
		t.Fatalf("%d verifications, want %d", got, verifies)
	}
}

// refuse checks raw, which must be refused with status and a description
// containing reason, after which the fixture must have made verifies
// verifications in all.
func (f *cacheFixture) refuse(t *testing.T, raw string, status int, reason string, verifies int64) {
	t.Helper()
	_, err := f.check(raw)
	if e := oauth.As(err); err == nil || e.Status != status || !strings.Contains(e.Description, reason) {
		t.Fatalf("got %v, want %d %q", err, status, reason)
	}
	if got := f.verifies.Load(); got != verifies {
		t.Fatalf("%d verifications, want %d", got, verifies)
	}
}

// TestTokenCacheHitSkipsVerification: a token presented again is not
// verified again; without a cache each presentation is.
func TestTokenCacheHitSkipsVerification(t *testing.T) {
	f := newCacheFixture(t, resourceserver.TokenCacheOptions{})
	tok := f.token(t, f.signing, "alice", time.Hour)
	for range 5 {
		f.accept(t, tok, "alice", 1)
	}
	if st := f.auth.Cache.Stats(); st.Hits != 4 || st.Misses != 1 || st.Entries != 1 || st.Bytes <= 2*len(tok) {
		t.Errorf("stats %+v", st)
	}

	f.auth = f.authenticator(nil, apiAudience)
	for i := range 3 {
		f.accept(t, tok, "alice", int64(2+i))
	}
}

// TestTokenCacheClaimsAreCopies: what a caller does to the claims it got
// does not reach the next request presenting the token.
func TestTokenCacheClaimsAreCopies(t *testing.T) {
	f := newCacheFixture(t, resourceserver.TokenCacheOptions{})
	tok := f.token(t, f.signing, "alice", time.Hour)
	for range 3 {
		c, err := f.check(tok)
		must(t, err)
		if c.Subject != "alice" || c.ClientID != "cli" {
			t.Fatalf("claims %+v", c)
		}
		c.Subject, c.ClientID = "mallory", "evil"
	}
	if n := f.verifies.Load(); n != 1 {
		t.Errorf("%d verifications, want 1", n)
	}
}

// TestTokenCacheRevocationOnEveryHit: the revocation checker is asked on
// every request, and refuses a cached token (401), or every token when it
// cannot tell (503).
func TestTokenCacheRevocationOnEveryHit(t *testing.T) {
	f := newCacheFixture(t, resourceserver.TokenCacheOptions{})
	tok := f.token(t, f.signing, "alice", time.Hour)
	f.accept(t, tok, "alice", 1)
	f.accept(t, tok, "alice", 1)
	f.revocation.err = accesstoken.Invalid("token revoked")
	f.refuse(t, tok, http.StatusUnauthorized, "token revoked", 1)
	f.revocation.err = errors.New("mirror stale")
	f.refuse(t, tok, http.StatusServiceUnavailable, "", 1)
	f.revocation.err = nil
	f.accept(t, tok, "alice", 1)
	if n := f.revocation.calls.Load(); n != 5 {
		t.Errorf("revocation asked %d times for 5 requests", n)
	}
}

// TestTokenCacheTimesOnEveryHit: exp and iat are checked against the clock
// on every hit, with the validator's leeway.
func TestTokenCacheTimesOnEveryHit(t *testing.T) {
	f := newCacheFixture(t, resourceserver.TokenCacheOptions{})
	tok := f.token(t, f.signing, "alice", time.Minute)
	f.accept(t, tok, "alice", 1)
	f.clk.Step(time.Minute + accesstoken.DefaultLeeway/2) // past exp, within the leeway
	f.accept(t, tok, "alice", 1)
	f.clk.Step(accesstoken.DefaultLeeway)
	f.refuse(t, tok, http.StatusUnauthorized, "token expired", 1)
	f.refuse(t, tok, http.StatusUnauthorized, "token expired", 2) // dropped, verified again: still expired

	// A clock set back before iat (beyond the leeway): issued in the future.
	f.clk.SetTime(time.Now())
	back := f.token(t, f.signing, "bob", time.Hour)
	f.accept(t, back, "bob", 3)
	f.clk.Step(-time.Minute)
	f.refuse(t, back, http.StatusUnauthorized, "issued in the future", 3)
}

// TestTokenCacheKeyRemovalDropsTokens: a token whose key has left the key
// set is refused on the next request though cached; a set that holds the
// same key again (a refetched copy) keeps it.
func TestTokenCacheKeyRemovalDropsTokens(t *testing.T) {
	f := newCacheFixture(t, resourceserver.TokenCacheOptions{})
	tok := f.token(t, f.signing, "alice", time.Hour)
	spare := f.token(t, f.spare, "bob", time.Hour)
	f.accept(t, tok, "alice", 1)
	f.accept(t, spare, "bob", 2)

	copies, _, err := signer.ParseJWKS(f.keys.Current().JWKS()) // new *Key values, same keys
	must(t, err)
	f.keys.p.Store(copies)
	f.accept(t, tok, "alice", 2)
	f.accept(t, spare, "bob", 2)

	f.keys.set(t, f.spare)
	f.refuse(t, tok, http.StatusUnauthorized, "unknown key id", 3)
	f.accept(t, spare, "bob", 3)

	// A key of the same kid but another public key is not the key.
	impostor := &signer.Key{ID: f.spare.ID, Alg: f.spare.Alg, Public: f.signing.Public}
	f.keys.set(t, impostor)
	f.refuse(t, spare, http.StatusUnauthorized, "invalid signature", 4)
}

// TestTokenCacheBoundsEvictOldest: beyond MaxEntries, or MaxBytes, the
// oldest tokens are evicted and verified again when presented.
func TestTokenCacheBoundsEvictOldest(t *testing.T) {
	f := newCacheFixture(t, resourceserver.TokenCacheOptions{MaxEntries: 3})
	toks := make([]string, 4)
	for i := range toks {
		toks[i] = f.token(t, f.signing, fmt.Sprint("user", i), time.Hour)
		f.accept(t, toks[i], fmt.Sprint("user", i), int64(i+1))
	}
	for i := 3; i >= 1; i-- {
		f.accept(t, toks[i], fmt.Sprint("user", i), 4)
	}
	f.accept(t, toks[0], "user0", 5)
	if st := f.auth.Cache.Stats(); st.Entries != 3 || st.Evictions != 2 {
		t.Errorf("stats %+v, want 3 entries and 2 evictions", st)
	}

	// The byte bound: room for two entries and a half (the tokens are of
	// one length).
	st := f.auth.Cache.Stats()
	per := st.Bytes / st.Entries
	f.auth = f.authenticator(resourceserver.NewTokenCache(resourceserver.TokenCacheOptions{MaxBytes: 2*per + per/2}), apiAudience)
	f.verifies.Store(0)
	for i := range 3 {
		f.accept(t, toks[i], fmt.Sprint("user", i), int64(1+i))
	}
	f.accept(t, toks[2], "user2", 3)
	f.accept(t, toks[1], "user1", 3)
	f.accept(t, toks[0], "user0", 4)
	if st := f.auth.Cache.Stats(); st.Entries != 2 || st.Bytes > 2*per+per/2 {
		t.Errorf("stats %+v, want 2 entries within %d bytes", st, 2*per+per/2)
	}
}

// TestTokenCacheNegative: a lasting refusal is remembered for NegativeTTL
// only, in at most MaxNegative entries.
func TestTokenCacheNegative(t *testing.T) {
	f := newCacheFixture(t, resourceserver.TokenCacheOptions{MaxNegative: 2, NegativeTTL: time.Second})
	good := f.token(t, f.signing, "alice", time.Hour)
	bad := make([]string, 3)
	at := strings.LastIndexByte(good, '.') + 8 // within the signature
	for i := range bad {
		c := "ABC"[i : i+1]
		if good[at:at+1] == c {
			c = "D"
		}
		bad[i] = good[:at] + c + good[at+1:] // another signature
	}
	f.refuse(t, bad[0], http.StatusUnauthorized, "invalid signature", 1)
	f.refuse(t, bad[0], http.StatusUnauthorized, "invalid signature", 1)
	f.clk.Step(time.Second)
	f.refuse(t, bad[0], http.StatusUnauthorized, "invalid signature", 2)

	f.refuse(t, bad[1], http.StatusUnauthorized, "invalid signature", 3)
	f.refuse(t, bad[2], http.StatusUnauthorized, "invalid signature", 4) // evicts bad[0]
	f.refuse(t, bad[2], http.StatusUnauthorized, "invalid signature", 4)
	f.refuse(t, bad[1], http.StatusUnauthorized, "invalid signature", 4)
	f.refuse(t, bad[0], http.StatusUnauthorized, "invalid signature", 5)
	if st := f.auth.Cache.Stats(); st.Negative != 2 || st.NegativeHits != 3 {
		t.Errorf("stats %+v, want 2 refusals held and 3 negative hits", st)
	}
	f.accept(t, good, "alice", 6) // the good token, whose prefix they share, was never a hit
}

// TestTokenCacheNegativeNotForRotationsOrTime: an unknown kid, which the
// next key set may hold, and a token not valid yet are not remembered as
// refused; nor is a 503 for want of keys.
func TestTokenCacheNegativeNotForRotationsOrTime(t *testing.T) {
	f := newCacheFixture(t, resourceserver.TokenCacheOptions{})
	next := authtest.Key(t, signer.AlgES256)
	tok := f.token(t, next, "alice", time.Hour)
	f.refuse(t, tok, http.StatusUnauthorized, "unknown key id", 1)
	f.refuse(t, tok, http.StatusUnauthorized, "unknown key id", 2)
	f.keys.set(t, f.signing, next) // the rotation's key arrives
	f.accept(t, tok, "alice", 3)

	f.keys.set(t)
	f.refuse(t, tok, http.StatusServiceUnavailable, "", 3)
	f.keys.set(t, f.signing, next)
	f.accept(t, tok, "alice", 3)

	f.clk.Step(time.Minute) // a token from a clock a minute ahead
	early := f.token(t, f.signing, "bob", time.Hour)
	f.clk.Step(-time.Minute)
	f.refuse(t, early, http.StatusUnauthorized, "issued in the future", 4)
	f.refuse(t, early, http.StatusUnauthorized, "issued in the future", 5)
	f.clk.Step(time.Minute - accesstoken.DefaultLeeway/2)
	f.accept(t, early, "bob", 6)
}

// TestTokenCacheExactTokenOnly: a token that differs from a cached one in
// any way (a suffix, a truncation, another signature) is verified, never
// answered with the cached verdict.
func TestTokenCacheExactTokenOnly(t *testing.T) {
	f := newCacheFixture(t, resourceserver.TokenCacheOptions{})
	tok := f.token(t, f.signing, "alice", time.Hour)
	f.accept(t, tok, "alice", 1)
	n := int64(1)
	for _, variant := range []string{tok + "A", tok[:len(tok)-1], tok[:len(tok)-1] + "B", tok[:strings.LastIndexByte(tok, '.')+1]} {
		if variant == tok {
			continue
		}
		n++
		if _, err := f.check(variant); err == nil {
			t.Errorf("variant %d accepted", n)
		}
		if got := f.verifies.Load(); got != n {
			t.Fatalf("variant %d: %d verifications, want %d", n, got, n)
		}
	}
	f.accept(t, tok, "alice", n)
}

// TestTokenCacheValidatorBound: a cache shared by two Authenticators never
// lends one validator's verdict to the other (whose audiences differ).
func TestTokenCacheValidatorBound(t *testing.T) {
	f := newCacheFixture(t, resourceserver.TokenCacheOptions{})
	tok := f.token(t, f.signing, "alice", time.Hour)
	f.accept(t, tok, "alice", 1)
	f.auth = f.authenticator(f.auth.Cache, otherAudience)
	f.refuse(t, tok, http.StatusUnauthorized, "wrong audience", 2)
	f.refuse(t, tok, http.StatusUnauthorized, "wrong audience", 2) // its own refusal, remembered
}

// TestTokenCacheDisabled: a disabled cache is nil and caches nothing.
func TestTokenCacheDisabled(t *testing.T) {
	c := resourceserver.NewTokenCache(resourceserver.TokenCacheOptions{Disabled: true})
	if c != nil {
		t.Fatalf("disabled cache %v, want nil", c)
	}
	if st := c.Stats(); st != (resourceserver.TokenCacheStats{}) {
		t.Errorf("stats of nil %+v", st)
	}
}

// TestMiddlewareCachesByDefault: the middleware verifies a token presented
// twice once, unless its Options disable the cache.
func TestMiddlewareCachesByDefault(t *testing.T) {
	iss := newStaticIssuer(t, nil)
	tok := iss.token(t, apiAudience, "read")
	for _, disabled := range []bool{false, true} {
		m := newStaticMiddleware(t, iss, func(o *resourceserver.Options) { o.TokenCache.Disabled = disabled })
		var n atomic.Int64
		resourceserver.CountVerifications(resourceserver.MiddlewareAuthenticator(m), &n)
		h := m.Handler(echoClaims)
		for range 3 {
			if rec := call(h, "Bearer "+tok); rec.Code != http.StatusOK {
				t.Fatalf("disabled=%v: %d %s", disabled, rec.Code, rec.Body)
			}
		}
		want := int64(1)
		if disabled {
			want = 3
		}
		if n.Load() != want {
			t.Errorf("disabled=%v: %d verifications, want %d", disabled, n.Load(), want)
		}
		if st := m.TokenCacheStats(); st.Hits != uint64(3-want) {
			t.Errorf("disabled=%v: stats %+v", disabled, st)
		}
	}
}

// TestTokenCacheConcurrent: many goroutines presenting, refusing and
// evicting tokens while keys change and the clock moves, under -race: every
// accepted token gets its own subject back.
func TestTokenCacheConcurrent(t *testing.T) {
	f := newCacheFixture(t, resourceserver.TokenCacheOptions{MaxEntries: 8, MaxNegative: 4})
	const n = 24
	toks := make([]string, n)
	for i := range toks {
		key := f.signing
		if i%3 == 0 {
			key = f.spare
		}
		toks[i] = f.token(t, key, fmt.Sprint("user", i), time.Hour)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				j := (g*7 + i) % n
				raw := toks[j]
				if i%5 == 0 {
					raw = raw[:len(raw)-1] + "A"
				}
				c, err := f.check(raw)
				if err == nil && c.Subject != fmt.Sprint("user", j) {
					t.Errorf("token %d answered for %q", j, c.Subject)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			if i%2 == 0 {
				f.keys.set(t, f.signing)
			} else {
				f.keys.set(t, f.signing, f.spare)
			}
			f.clk.Step(time.Millisecond)
			_ = f.auth.Cache.Stats()
		}
	}()
	wg.Wait()
	f.keys.set(t, f.signing)
	f.refuse(t, toks[0], http.StatusUnauthorized, "unknown key id", f.verifies.Load()+1)
	if st := f.auth.Cache.Stats(); st.Entries > 8 || st.Negative > 4 {
		t.Errorf("stats %+v beyond the bounds", st)
	}
}
