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
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Mint issues a login's tokens in the store's epoch, which it fetches
// itself (writing one into a store without): a caller's Epoch is not used.
func TestMintUsesTheStoresEpoch(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	m := &Minter{Tokens: &accesstoken.Issuer{Keys: signer.Static(authtest.KeySet(t, signer.AlgES256)), Issuer: "https://a.example"}, Store: st,
		DefaultAudience: []string{"https://a.example"}, AccessTokenTTL: time.Minute, RefreshTokenTTL: time.Hour}
	for _, callers := range []string{"", "a stale epoch"} {
		resp, err := m.Mint(ctx, Session{User: store.User{Username: "alice"}, Client: store.Client{ID: "c"}, AuthTime: time.Now(), Epoch: callers})
		if err != nil {
			t.Fatal(err)
		}
		epoch, err := st.GetEpoch(ctx)
		if err != nil {
			t.Fatalf("Mint left the store without an epoch: %v", err)
		}
		var c accesstoken.Claims
		if _, _, err := jwt.NewParser().ParseUnverified(resp.AccessToken, &c); err != nil {
			t.Fatal(err)
		}
		if c.Epoch != epoch {
			t.Errorf("caller's epoch %q: the token's is %q, want the store's %q", callers, c.Epoch, epoch)
		}
		sess, err := st.GetSession(ctx, c.SessionID)
		if err != nil || sess.Epoch != epoch {
			t.Errorf("session %+v, %v: want the store's epoch %q", sess, err, epoch)
		}
	}
}
