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

package conformance

import (
	"testing"
	"time"
)

func checkRevoked(t *testing.T, s Store, jti string, now time.Time, want bool) {
	t.Helper()
	got, err := s.AccessTokenRevoked(t.Context(), jti, now)
	must(t, "AccessTokenRevoked "+jti, err)
	if got != want {
		t.Fatalf("AccessTokenRevoked(%q, %v) = %v, want %v", jti, now, got, want)
	}
}

func testAccessTokenRevocation(t *testing.T, s Store) {
	ctx := t.Context()
	now := time.Now()
	// Revocations are kept to the millisecond; token exps are whole seconds.
	exp := now.Add(time.Hour).Truncate(time.Second)

	checkRevoked(t, s, "j1", now, false)
	must(t, "RevokeAccessToken", s.RevokeAccessToken(ctx, "j1", exp))
	must(t, "RevokeAccessToken again", s.RevokeAccessToken(ctx, "j1", exp))
	checkRevoked(t, s, "j1", now, true)
	checkRevoked(t, s, "j1", exp.Add(-time.Nanosecond), true)
	checkRevoked(t, s, "j1", exp, false)
	checkRevoked(t, s, "j1", exp.Add(time.Hour), false)
	checkRevoked(t, s, "j2", now, false)

	// Revoking a token that has already expired changes nothing.
	must(t, "RevokeAccessToken expired", s.RevokeAccessToken(ctx, "j3", now.Add(-time.Second)))
	checkRevoked(t, s, "j3", now, false)
	checkRevoked(t, s, "j3", now.Add(-2*time.Second), true)

	must(t, "RevokeAccessToken odd jti", s.RevokeAccessToken(ctx, "{j1}", exp))
	checkRevoked(t, s, "{j1}", now, true)
}
