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
	"testing"
	"time"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// BenchmarkValidate measures full validation of an access token (parse,
// signature, typ, alg pinning, claims) for each signing algorithm.
func BenchmarkValidate(b *testing.B) {
	for _, alg := range []string{signer.AlgES256, signer.AlgEdDSA, signer.AlgRS256} {
		b.Run(alg, func(b *testing.B) {
			src := signer.Static(authtest.KeySet(b, alg))
			is := &Issuer{Keys: src, Issuer: "https://auth.example"}
			tok, _, err := is.IssueFor(Request{Subject: "alice", ClientID: "cli", Audience: []string{"api"}, Scopes: []string{"read"}, Groups: []string{"g"}, TTL: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			v := &Validator{Keys: src, Issuer: "https://auth.example", Audiences: []string{"api"}}
			for b.Loop() {
				if _, err := v.Validate(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckJSON measures the duplicate-member and date check alone,
// the part of Validate's cost it adds before the jwt parser.
func BenchmarkCheckJSON(b *testing.B) {
	is := &Issuer{Keys: signer.Static(authtest.KeySet(b, signer.AlgES256)), Issuer: "https://auth.example"}
	tok, _, err := is.IssueFor(Request{Subject: "alice", ClientID: "cli", Audience: []string{"api"}, Scopes: []string{"read"},
		Groups: []string{"g"}, TTL: time.Hour, SessionID: NewID(), Epoch: NewID()})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := checkJSON(tok); err != nil {
			b.Fatal(err)
		}
	}
}
