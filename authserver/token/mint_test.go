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

package token

import (
	"context"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// A login issues its tokens in the store's epoch, as BeginLogin read it,
// and writes one into a store without.
func TestLoginUsesTheStoresEpoch(t *testing.T) {
	ctx := context.Background()
	g, _ := newGrant(t)
	st := g.Logins.(store.Store)
	for _, preset := range []string{"", "an epoch of the store's"} {
		if preset != "" {
			if _, err := st.ReplaceEpoch(ctx, mustEpoch(t, st), preset); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := loginResponse(g, "alice", "alice-pw")
		if err != nil {
			t.Fatal(err)
		}
		epoch := mustEpoch(t, st)
		if preset != "" && epoch != preset {
			t.Fatalf("the login replaced the store's epoch %q with %q", preset, epoch)
		}
		var c accesstoken.Claims
		if _, _, err := jwt.NewParser().ParseUnverified(resp.AccessToken, &c); err != nil {
			t.Fatal(err)
		}
		if c.Epoch != epoch {
			t.Errorf("the token's epoch is %q, want the store's %q", c.Epoch, epoch)
		}
		sess, err := st.GetSession(ctx, c.SessionID)
		if err != nil || sess.Epoch != epoch {
			t.Errorf("session %+v, %v: want the store's epoch %q", sess, err, epoch)
		}
	}
}

func mustEpoch(t *testing.T, st store.Store) string {
	t.Helper()
	e, err := st.GetEpoch(context.Background())
	if err != nil {
		t.Fatalf("no epoch in the store: %v", err)
	}
	return e
}
