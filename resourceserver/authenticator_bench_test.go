//go:build linux

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
	"testing"
	"time"

	"github.com/authstack/authstack/internal/mirror"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// coldTokens is how many distinct tokens the cold benchmarks cycle
// through: four times the cache they use, which evicts the oldest first, so
// that every lookup misses.
const (
	coldTokens = 4096
	coldCache  = coldTokens / 4
)

// BenchmarkAuthenticator measures Authenticator.Check, with the token
// server's revocation mirror (loaded from a memory store), for each
// algorithm:
//
//   - repeated: one token presented again and again, with the token cache
//     (the hit path) and without it (one verification each);
//   - cold: every token new to the cache (coldTokens cycled through a
//     cache of coldCache), with the cache and without, so that the cache
//     never hides a regression of the verification path: cold/cache costs
//     what repeated/nocache does, plus the misses' bookkeeping.
func BenchmarkAuthenticator(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := memory.New()
	must(b, st.PutUser(ctx, store.User{Username: "alice", PasswordHash: "x"}))
	m := mirror.New(mirror.Options{Feed: st, Log: discard})
	go func() { _ = m.Run(ctx) }()
	authtest.Eventually(b, "the mirror to load", m.Fresh)
	epoch, err := m.Epoch()
	must(b, err)

	for _, alg := range []string{signer.AlgES256, signer.AlgEdDSA, signer.AlgRS256} {
		keys := signer.Static(authtest.KeySet(b, alg))
		is := &accesstoken.Issuer{Keys: keys, Issuer: testIssuer}
		toks := make([]string, coldTokens)
		for i := range toks {
			toks[i], _, err = is.IssueFor(accesstoken.Request{Subject: "alice", ClientID: "cli", Audience: []string{apiAudience},
				Scopes: []string{"read"}, Groups: []string{"g"}, TTL: time.Hour, SessionID: accesstoken.NewID(), Epoch: epoch})
			must(b, err)
		}
		for _, c := range []struct {
			name   string
			cache  *resourceserver.TokenCache
			tokens []string
		}{
			{"repeated/cache", resourceserver.NewTokenCache(resourceserver.TokenCacheOptions{}), toks[:1]},
			{"repeated/nocache", nil, toks[:1]},
			{"cold/cache", resourceserver.NewTokenCache(resourceserver.TokenCacheOptions{MaxEntries: coldCache}), toks},
			{"cold/nocache", nil, toks},
		} {
			a := &resourceserver.Authenticator{
				Validator:  &accesstoken.Validator{Keys: keys, Issuer: testIssuer, Audiences: []string{apiAudience}},
				Revocation: m, Cache: c.cache,
			}
			b.Run(alg+"/"+c.name, func(b *testing.B) {
				i := 0
				for b.Loop() {
					if _, err := a.Check(ctx, c.tokens[i%len(c.tokens)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
				if st := c.cache.Stats(); c.cache != nil && len(c.tokens) > 1 && st.Hits > 0 {
					b.Fatalf("cold: %d hits", st.Hits)
				}
			})
		}
	}
}
