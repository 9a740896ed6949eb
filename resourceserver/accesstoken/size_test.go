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

package accesstoken

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/oauth"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// With the issuer, the user and the client at their budgets, a token still
// fits the validators' limit, signed with the largest RSA key accepted
// (its signature is counted; the token is signed with ES256 to keep the
// test fast).
func TestBudgetsFit(t *testing.T) {
	iss := "https://" + strings.Repeat("i", MaxIssuerBytes-len("https://"))
	// A user at its budget: a long name, groups, scopes with characters
	// JSON escapes.
	username := strings.Repeat("u", 253)
	var groups, scopes []string
	for UserClaimBytes(username, groups, scopes) < MaxUserClaimBytes-60 {
		groups = append(groups, strings.Repeat("g", 20)+`"\`)
		scopes = append(scopes, strings.Repeat("s", 10))
	}
	clientID := strings.Repeat("c", 253)
	var aud []string
	for ClientClaimBytes(clientID, aud) < MaxClientClaimBytes-40 {
		aud = append(aud, "https://"+strings.Repeat("a", 25))
	}
	if UserClaimBytes(username, groups, scopes) > MaxUserClaimBytes || ClientClaimBytes(clientID, aud) > MaxClientClaimBytes {
		t.Fatal("fixture over budget")
	}
	is := &Issuer{Keys: signer.Static(authtest.KeySet(t, signer.AlgES256)), Issuer: iss}
	tok, _, err := is.IssueFor(Request{Subject: username, Username: username, ClientID: clientID, Audience: aud, Scopes: append(scopes, oauth.OpenIDScopes...), Groups: groups,
		TTL: time.Hour, SessionID: NewID(), Epoch: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", AuthTime: time.Now(), Credential: 1 << 50})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"` + strings.Repeat("k", 43) + `","typ":"at+jwt"}`))
	rsaSig := base64.RawURLEncoding.EncodedLen(signer.MaxRSABits / 8)
	if n := len(header) + 1 + len(parts[1]) + 1 + rsaSig; n > DefaultMaxTokenBytes {
		t.Fatalf("a token at every budget takes %d bytes with an RS256 signature, more than %d", n, DefaultMaxTokenBytes)
	}
}

func TestClaimBytes(t *testing.T) {
	if got := UserClaimBytes("alice", []string{"readers"}, []string{"read", "write"}); got != 2*len(`"alice"`)+len(`["readers"]`)+len(`"read write openid profile groups"`) {
		t.Fatalf("UserClaimBytes = %d", got)
	}
	if got := ClientClaimBytes("billing", nil); got != len(`"billing"`)+len(`null`) {
		t.Fatalf("ClientClaimBytes = %d", got)
	}
}
