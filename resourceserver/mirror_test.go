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
	"net/http"
	"testing"

	"github.com/authstack/authstack/internal/mirror"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
)

// The token server's revocation mirror is a RevocationChecker.
var _ resourceserver.RevocationChecker = (*mirror.Mirror)(nil)

// TestEndToEndRevocationMirror protects the API with the middleware and a
// mirror.Mirror following the token server's store, as a service in the
// cluster does: a token revoked at the server's /revoke stops working, and
// a mirror that is not in step with the store refuses with 503.
func TestEndToEndRevocationMirror(t *testing.T) {
	ts := newTokenServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	m := mirror.New(mirror.Options{Feed: ts.store, Log: discard})
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("mirror: %v", err)
		}
	})
	authtest.Eventually(t, "the mirror to load", m.Fresh)

	h := ts.middleware(newClock(), func(o *resourceserver.Options) { o.Revocation = m }).Handler(echoClaims)
	tok, other := ts.token("alice", alicePassword), ts.token("alice", alicePassword)
	if rec := call(h, "Bearer "+tok); rec.Code != http.StatusOK {
		t.Fatalf("before revocation: %d %s", rec.Code, rec.Body)
	}
	ts.revoke(tok)
	authtest.Eventually(t, "the revocation to reach the mirror", func() bool { return call(h, "Bearer "+tok).Code != http.StatusOK })
	expectError(t, call(h, "Bearer "+tok), http.StatusUnauthorized, "invalid_token", "revoked")
	if rec := call(h, "Bearer "+other); rec.Code != http.StatusOK {
		t.Errorf("another token of the user: %d %s", rec.Code, rec.Body)
	}

	// A mirror that never loaded cannot tell: 503, never a pass.
	idle := mirror.New(mirror.Options{Feed: ts.store, Log: discard})
	h = ts.middleware(newClock(), func(o *resourceserver.Options) { o.Revocation = idle }).Handler(echoClaims)
	expectError(t, call(h, "Bearer "+other), http.StatusServiceUnavailable, "temporarily_unavailable", "revocation")
}
