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
