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
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/internal/store"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Revocations follows the servers' Redis from outside the module's
// internals: a token whose jti is revoked there is refused, and once
// Redis is gone beyond the staleness bound every token is refused with an
// error that is not invalid_token (503), never let through.
func TestRevocationsFollowTheServersRedis(t *testing.T) {
	rs := redistest.Start(t)
	ctx := t.Context()
	st, err := redisstore.New(ctx, redisstore.Options{URL: rs.URL(), KeyPrefix: "svc"})
	must(t, err)
	t.Cleanup(func() { _ = st.Close() })
	epoch, err := st.InitEpoch(ctx, "e1")
	must(t, err)
	now := time.Now()
	must(t, st.PutUser(ctx, store.User{Username: "alice", PasswordHash: "x", NotBefore: now.Add(-time.Hour)}))

	rev, err := resourceserver.NewRevocations(ctx, resourceserver.RedisOptions{URL: rs.URL(), KeyPrefix: "svc", MaxStaleness: 500 * time.Millisecond})
	must(t, err)
	t.Cleanup(func() { _ = rev.Close() })
	wait, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	must(t, rev.WaitReady(wait))

	claims := func(jti string) *accesstoken.Claims {
		return &accesstoken.Claims{Epoch: epoch, RegisteredClaims: jwt.RegisteredClaims{
			ID: jti, Subject: "alice", IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
	}
	if err := rev.Check(claims("j1")); err != nil {
		t.Fatalf("a good token: %v", err)
	}
	must(t, st.RevokeAccessToken(ctx, "j1", now.Add(time.Hour)))
	authtest.Eventually(t, "the revocation to arrive", func() bool { return errors.Is(rev.Check(claims("j1")), accesstoken.ErrInvalidToken) })
	if err := rev.Check(claims("j2")); err != nil {
		t.Fatalf("another token of the user: %v", err)
	}

	rs.Stop()
	authtest.Eventually(t, "the copy to go stale", func() bool { return !rev.Fresh() })
	if err := rev.Check(claims("j2")); err == nil || errors.Is(err, accesstoken.ErrInvalidToken) {
		t.Fatalf("a stale copy answered %v, want an error that is not invalid_token", err)
	}
}
