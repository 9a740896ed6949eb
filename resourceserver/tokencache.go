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

package resourceserver

import (
	"crypto"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Defaults of TokenCacheOptions' zero fields.
const (
	DefaultTokenCacheEntries = 10_000
	DefaultTokenCacheBytes   = 16 << 20
	DefaultNegativeTTL       = time.Second
	DefaultNegativeEntries   = 1024
	DefaultNegativeBytes     = 1 << 20
)

// entryOverhead is what an entry costs besides its token, counted in
// TokenCacheStats.Bytes: the entry, its map slot and the decoded claims'
// fixed part. The claims' strings, shorter than the token, count as a
// second copy of it.
const entryOverhead = 256

// TokenCacheOptions bound a [TokenCache].
type TokenCacheOptions struct {
	// Disabled makes NewTokenCache return nil: every token is verified on
	// every request.
	Disabled bool
	// MaxEntries and MaxBytes bound the verified tokens held
	// (DefaultTokenCacheEntries and DefaultTokenCacheBytes when zero or
	// negative); an entry counts twice its token's length plus a fixed
	// overhead. The oldest entries are evicted first.
	MaxEntries, MaxBytes int
	// NegativeTTL is how long a lasting refusal (accesstoken.Lasting) is
	// remembered (DefaultNegativeTTL when zero or negative), and
	// MaxNegative and MaxNegativeBytes bound how many are
	// (DefaultNegativeEntries and DefaultNegativeBytes when zero or
	// negative).
	NegativeTTL                   time.Duration
	MaxNegative, MaxNegativeBytes int
}

// TokenCache remembers the tokens an [Authenticator] verified, so that a
// token presented again is not verified again until it expires. A hit
// still checks, on every request:
//
//   - that the entry is for the exact same token (the map is keyed by the
//     whole token, compared in full) and was verified by the same
//     Validator (so a cache shared by validators of different audiences
//     never lends one's verdict to another);
//   - that the current key set still maps the token's kid to the key that
//     verified it: a key removed from the set drops every token it signed;
//   - exp, nbf and iat against the Validator's clock, with its leeway
//     (accesstoken.Validator.CheckTimes);
//
// and the Authenticator still asks its revocation checker about every
// token. Refusals are remembered only when lasting (a bad signature, a
// wrong audience, an expired token; never an unknown kid, which a refetch
// may find, nor a 503), for NegativeTTL, in a small bounded set, so that a
// flood of one bad token costs one verification per NegativeTTL.
//
// The zero value is not usable; build one with [NewTokenCache]. A nil
// *TokenCache caches nothing. It is safe for concurrent use.
type TokenCache struct {
	negativeTTL time.Duration

	mu       sync.RWMutex
	verified fifo[verifiedEntry]
	refused  fifo[refusedEntry]

	hits, misses, negativeHits atomic.Uint64
}

type verifiedEntry struct {
	claims *accesstoken.Claims
	key    *signer.Key
	by     *accesstoken.Validator
}

type refusedEntry struct {
	err   error
	until time.Time
	by    *accesstoken.Validator
}

// TokenCacheStats are a TokenCache's counters and size.
type TokenCacheStats struct {
	// Hits are lookups answered from the cache without a verification:
	// verified tokens and remembered refusals (also in NegativeHits).
	// Misses are lookups that verified the token.
	Hits, Misses, NegativeHits uint64
	// Evictions are entries dropped to keep within the bounds (of both
	// kinds).
	Evictions uint64
	// Entries and Bytes are the verified tokens held and what they count
	// against MaxBytes; Negative the refusals held.
	Entries, Bytes, Negative int
}

// NewTokenCache returns a cache with the bounds of o, or nil if o.Disabled.
func NewTokenCache(o TokenCacheOptions) *TokenCache {
	if o.Disabled {
		return nil
	}
	orDefault := func(v, def int) int {
		if v <= 0 {
			return def
		}
		return v
	}
	ttl := o.NegativeTTL
	if ttl <= 0 {
		ttl = DefaultNegativeTTL
	}
	return &TokenCache{
		negativeTTL: ttl,
		verified:    newFIFO[verifiedEntry](orDefault(o.MaxEntries, DefaultTokenCacheEntries), orDefault(o.MaxBytes, DefaultTokenCacheBytes)),
		refused:     newFIFO[refusedEntry](orDefault(o.MaxNegative, DefaultNegativeEntries), orDefault(o.MaxNegativeBytes, DefaultNegativeBytes)),
	}
}

// Stats returns the counters and size; zero for a nil cache.
func (c *TokenCache) Stats() TokenCacheStats {
	if c == nil {
		return TokenCacheStats{}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return TokenCacheStats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), NegativeHits: c.negativeHits.Load(),
		Evictions: c.verified.evictions + c.refused.evictions,
		Entries:   len(c.verified.byKey), Bytes: c.verified.bytes, Negative: len(c.refused.byKey),
	}
}

// lookup returns true and v's verdict on raw if the cache holds one that
// still stands; false if raw must be verified. ks is the current key
// set.
func (c *TokenCache) lookup(v *accesstoken.Validator, ks *signer.KeySet, raw string) (bool, *accesstoken.Claims, error) {
	c.mu.RLock()
	e := c.verified.get(raw)
	n := c.refused.get(raw)
	c.mu.RUnlock()
	if e != nil && e.val.by == v {
		if !stillHolds(ks, e.val.key) {
			c.drop(e, nil)
		} else {
			c.hits.Add(1)
			if err := v.CheckTimes(e.val.claims); err != nil {
				c.drop(e, nil)
				return true, nil, err
			}
			claims := *e.val.claims // the slices are shared: read-only
			return true, &claims, nil
		}
	}
	if n != nil && n.val.by == v {
		if now(v).Before(n.val.until) {
			c.hits.Add(1)
			c.negativeHits.Add(1)
			return true, nil, n.val.err
		}
		c.drop(nil, n)
	}
	c.misses.Add(1)
	return false, nil, nil
}

// store remembers v's verdict on raw: claims verified by key, or a lasting
// refusal err.
func (c *TokenCache) store(v *accesstoken.Validator, raw string, claims *accesstoken.Claims, key *signer.Key, err error) {
	switch {
	case err == nil && key != nil:
		e := verifiedEntry{claims: cloneClaims(claims), key: key, by: v}
		c.mu.Lock()
		c.verified.put(raw, e, 2*len(raw)+entryOverhead)
		c.mu.Unlock()
	case accesstoken.Lasting(err):
		e := refusedEntry{err: err, until: now(v).Add(c.negativeTTL), by: v}
		c.mu.Lock()
		c.refused.put(raw, e, len(raw)+entryOverhead)
		c.mu.Unlock()
	}
}

// drop removes the entries given, if they are still the ones held.
func (c *TokenCache) drop(e *fifoEntry[verifiedEntry], n *fifoEntry[refusedEntry]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e != nil {
		c.verified.remove(e)
	}
	if n != nil {
		c.refused.remove(n)
	}
}

// stillHolds reports whether ks maps key's kid to key (the same pointer,
// or the same algorithm and public key, as a refetched set holds).
func stillHolds(ks *signer.KeySet, key *signer.Key) bool {
	k, ok := ks.Lookup(key.ID)
	if !ok {
		return false
	}
	if k == key {
		return true
	}
	pub, ok := k.Public.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Alg == key.Alg && pub.Equal(key.Public)
}

// cloneClaims copies c so that no caller shares the slices and pointers of
// the cached claims with the one that verified them.
func cloneClaims(c *accesstoken.Claims) *accesstoken.Claims {
	cp := *c
	cp.Audience = append(cp.Audience[:0:0], c.Audience...)
	cp.Groups = append(cp.Groups[:0:0], c.Groups...)
	for _, d := range []**jwt.NumericDate{&cp.ExpiresAt, &cp.NotBefore, &cp.IssuedAt, &cp.AuthTime} {
		if *d != nil {
			t := **d
			*d = &t
		}
	}
	return &cp
}

func now(v *accesstoken.Validator) time.Time { return clocks.Or(v.Clock).Now() }
