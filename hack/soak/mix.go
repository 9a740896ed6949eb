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

package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// propagationBound is how long a revoked or outdated token may still be
// accepted by another replica (its revocation mirror catching up); past it
// the acceptance is an error. Revocation reaches the other replicas in
// milliseconds (docs/benchmarks.md), so this is generous.
const propagationBound = 5 * time.Second

// mix is the soak's load: sessions started at a fixed rate, the user
// changes, and what they saw.
type mix struct {
	c       *cluster
	o       options
	t       *tally
	book    sessionBook
	revoked atomic.Int64 // sessions revoked
}

// login logs user in and checks the answer is tokens.
func (m *mix) login(ctx context.Context, op string, addr, replica int, user, pw string) (tokens, bool) {
	r := m.c.login(ctx, addr, replica, user, pw)
	tok, ok := parseTokens(r)
	if !ok && r.status == http.StatusOK {
		r.err = fmt.Errorf("200 without tokens: %.200s", r.body)
	}
	return tok, m.t.check(op, r, "", http.StatusOK)
}

// session is one login's life: its access token verified on the replicas,
// refreshed on another, and, one in o.revokeEvery, revoked and checked
// refused on another replica.
func (m *mix) session(ctx context.Context, seq int) {
	user, r, a := loadUser(seq%m.o.users), seq%replicas, seq
	tok, ok := m.login(ctx, "login", a, r, user, userPassword)
	if !ok {
		return
	}
	s := m.book.add(m.o.refreshTTL)
	if !sleep(ctx, m.o.think) {
		return
	}
	for i := range m.o.verifies {
		m.t.check("verify", m.c.verify(ctx, a, r+1+i, tok.Access), "", http.StatusOK)
	}
	if !sleep(ctx, m.o.think) {
		return
	}
	rr := m.c.refresh(ctx, a, r+1, tok.Refresh)
	next, ok := parseTokens(rr)
	if !ok && rr.status == http.StatusOK {
		rr.err = fmt.Errorf("200 without tokens: %.200s", rr.body)
	}
	if !m.t.check("refresh", rr, "", http.StatusOK) {
		return
	}
	s.touch(m.o.refreshTTL)
	m.t.check("verify", m.c.verify(ctx, a, r+2, next.Access), "", http.StatusOK)
	if seq%m.o.revokeEvery != 0 {
		return
	}
	if (seq/m.o.revokeEvery)%2 == 0 {
		if !m.t.check("revoke refresh token", m.c.revoke(ctx, a, r, next.Refresh, "refresh_token"), "", http.StatusOK) {
			return
		}
		s.end()
		m.revoked.Add(1)
		// The refresh grant reads the session from Redis: refused at once.
		m.t.check("refresh with a revoked refresh token", m.c.refresh(ctx, a, r+1, next.Refresh), "invalid_grant", http.StatusBadRequest)
		m.awaitRefused(ctx, "verify of an access token of a revoked session", a, r+2, next.Access)
		return
	}
	if !m.t.check("revoke access token", m.c.revoke(ctx, a, r, next.Access, "access_token"), "", http.StatusOK) {
		return
	}
	s.end()
	m.revoked.Add(1)
	m.awaitRefused(ctx, "verify of a revoked access token", a, r+1, next.Access)
	m.t.check("refresh of a session whose access token was revoked", m.c.refresh(ctx, a, r+2, next.Refresh), "invalid_grant", http.StatusBadRequest)
}

// awaitRefused polls /verify of an access token that has just been revoked
// or outdated until the replica answers 401, for at most
// propagationBound: 200s meanwhile are the mirror catching up (counted,
// not errors), anything else is an error.
func (m *mix) awaitRefused(ctx context.Context, op string, addr, replica int, access string) {
	deadline := time.Now().Add(propagationBound)
	for ctx.Err() == nil {
		r := m.c.verify(ctx, addr, replica, access)
		if r.err == nil && r.status == http.StatusOK && time.Now().Before(deadline) {
			m.t.note(op + ": 200 while the change propagated")
			time.Sleep(5 * time.Millisecond)
			continue
		}
		m.t.check(op, r, "", http.StatusUnauthorized)
		return
	}
}

// storeGrace is how long the Redis store keeps a session's record past
// the expiry of its last token (internal/store/redis's gcGrace), so that
// clock skew between replicas and Redis cannot cut a session short.
const storeGrace = time.Hour

// sessionBook knows which sessions are live (logged in or refreshed within
// the refresh-token lifetime, and not revoked) and which Redis must still
// hold (until storeGrace after their last token's expiry, revoked or not),
// to compare Redis's memory with what they need.
type sessionBook struct {
	mu   sync.Mutex
	list []*liveSession
}

type liveSession struct {
	book    *sessionBook
	expires time.Time
	ended   bool
}

func (b *sessionBook) add(ttl time.Duration) *liveSession {
	s := &liveSession{book: b, expires: time.Now().Add(ttl)}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list = append(b.list, s)
	return s
}

func (s *liveSession) touch(ttl time.Duration) {
	s.book.mu.Lock()
	defer s.book.mu.Unlock()
	s.expires = time.Now().Add(ttl)
}

func (s *liveSession) end() {
	s.book.mu.Lock()
	defer s.book.mu.Unlock()
	s.ended = true
}

// count returns the live sessions and those Redis holds now, and forgets
// the sessions Redis no longer holds.
func (b *sessionBook) count() (live, held int) {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.list[:0]
	for _, s := range b.list {
		if s.expires.Add(storeGrace).After(now) {
			kept = append(kept, s)
		}
		if !s.ended && s.expires.After(now) {
			live++
		}
	}
	clear(b.list[len(kept):])
	b.list = kept
	return live, len(kept)
}
