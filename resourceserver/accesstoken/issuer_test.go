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
	"slices"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/internal/signer"
)

func TestIssue(t *testing.T) {
	for alg, k := range fixtureKeys(t) {
		t.Run(alg, func(t *testing.T) {
			is := &Issuer{Keys: newSource(t, k), Issuer: testIssuer, Clock: clocktesting.NewFakePassiveClock(t0.Add(500 * time.Millisecond))}
			raw, claims, err := is.IssueFor(Request{Subject: "alice", ClientID: "cli", Audience: []string{"api"}, Scopes: []string{"read", "write"}, Groups: []string{"admins"}, TTL: 10 * time.Minute})
			must(t, err)

			if claims.Issuer != testIssuer || claims.Subject != "alice" || claims.ClientID != "cli" ||
				!slices.Equal(claims.Audience, []string{"api"}) || claims.Scope != "read write" ||
				!slices.Equal(claims.Groups, []string{"admins"}) {
				t.Errorf("claims = %+v", claims)
			}
			if !claims.IssuedAt.Equal(t0) || !claims.ExpiresAt.Equal(t0.Add(10*time.Minute)) || claims.NotBefore != nil {
				t.Errorf("iat = %v, exp = %v, nbf = %v", claims.IssuedAt, claims.ExpiresAt, claims.NotBefore)
			}
			if b, err := base64.RawURLEncoding.DecodeString(claims.ID); err != nil || len(b) != 16 {
				t.Errorf("jti = %q, want 16 random bytes", claims.ID)
			}
			if got := claims.Scopes(); !slices.Equal(got, []string{"read", "write"}) || !claims.HasScope("write") || claims.HasScope("wri") {
				t.Errorf("Scopes = %v", got)
			}

			// aud is a JSON array even with a single audience (RFC 9068 §2.2).
			p := decodePayload(t, raw)
			if aud, ok := p["aud"].([]any); !ok || len(aud) != 1 || aud[0] != "api" {
				t.Errorf("aud = %#v, want [\"api\"]", p["aud"])
			}
			if _, ok := p["nbf"]; ok {
				t.Error("token has nbf")
			}

			v := &Validator{Keys: is.Keys, Issuer: testIssuer, Audiences: []string{"api"}, Clock: clocktesting.NewFakePassiveClock(t0.Add(time.Minute))}
			got, err := v.Validate(raw)
			must(t, err)
			if got.ID != claims.ID || got.Subject != "alice" || !slices.Equal(got.Groups, claims.Groups) {
				t.Errorf("validated claims = %+v, want %+v", got, claims)
			}
		})
	}
}

func TestIssueUniqueJTI(t *testing.T) {
	is := &Issuer{Keys: newSource(t, fixtureKey(t, "eddsa")), Issuer: testIssuer}
	seen := map[string]bool{}
	for range 100 {
		_, c, err := is.IssueFor(Request{Subject: "alice", ClientID: "cli", Audience: []string{"api"}, TTL: time.Minute})
		must(t, err)
		if seen[c.ID] {
			t.Fatalf("duplicate jti %s", c.ID)
		}
		seen[c.ID] = true
	}
}

func TestIssueRejects(t *testing.T) {
	k := fixtureKey(t, "es256")
	verifyOnly, err := signer.NewPublicKey(k.Public)
	must(t, err)
	ks, err := signer.NewKeySet(nil, verifyOnly)
	must(t, err)
	good := &Issuer{Keys: newSource(t, k), Issuer: testIssuer}

	for _, tc := range []struct {
		name     string
		is       *Issuer
		sub, cli string
		aud      []string
		scopes   []string
		ttl      time.Duration
	}{
		{"no issuer", &Issuer{Keys: good.Keys}, "a", "c", []string{"api"}, nil, time.Minute},
		{"no keys", &Issuer{Issuer: testIssuer}, "a", "c", []string{"api"}, nil, time.Minute},
		{"verify-only keys", &Issuer{Keys: signer.Static(ks), Issuer: testIssuer}, "a", "c", []string{"api"}, nil, time.Minute},
		{"empty subject", good, "", "c", []string{"api"}, nil, time.Minute},
		{"empty client", good, "a", "", []string{"api"}, nil, time.Minute},
		{"no audience", good, "a", "c", nil, nil, time.Minute},
		{"empty audience", good, "a", "c", []string{"api", ""}, nil, time.Minute},
		{"zero ttl", good, "a", "c", []string{"api"}, nil, 0},
		{"scope with space", good, "a", "c", []string{"api"}, []string{"read write"}, time.Minute},
		{"empty scope", good, "a", "c", []string{"api"}, []string{""}, time.Minute},
		{"scope with quote", good, "a", "c", []string{"api"}, []string{`a"b`}, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if raw, _, err := tc.is.IssueFor(Request{Subject: tc.sub, ClientID: tc.cli, Audience: tc.aud, Scopes: tc.scopes, TTL: tc.ttl}); err == nil {
				t.Errorf("Issue = %q, want error", raw)
			}
		})
	}
}
