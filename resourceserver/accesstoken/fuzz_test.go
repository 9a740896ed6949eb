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
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/internal/signer"
)

var updateFuzzSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the seed corpus in testdata/fuzz")

// fuzzNow is the validation time of FuzzValidate: the seed tokens, issued
// at t0 for an hour, are valid then.
var fuzzNow = t0.Add(30 * time.Minute)

// FuzzValidate checks that Validate never panics, that every error wraps
// ErrInvalidToken without echoing the token, and that every accepted token
// is genuinely valid, as established by an independent check.
func FuzzValidate(f *testing.F) {
	keys := fixtureKeys(f)
	ks, err := signer.NewKeySet(keys[signer.AlgES256], keys[signer.AlgEdDSA], keys[signer.AlgRS256])
	must(f, err)
	v := &Validator{Keys: signer.Static(ks), Issuer: testIssuer, Audiences: []string{"api"}, Clock: clocktesting.NewFakePassiveClock(fuzzNow)}
	// The seeds are in testdata/fuzz/FuzzValidate (see TestWriteFuzzSeeds).
	f.Fuzz(func(t *testing.T, raw string) {
		claims, err := v.Validate(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("error %v does not wrap ErrInvalidToken", err)
			}
			if len(raw) >= 16 && strings.Contains(err.Error(), raw) {
				t.Fatalf("error %q contains the token", err)
			}
			return
		}
		if claims == nil {
			t.Fatal("nil claims without error")
		}
		if reason := independentCheck(ks, raw, fuzzNow); reason != "" {
			t.Fatalf("Validate accepted a token that is not valid (%s): %q", reason, raw)
		}
	})
}

// independentCheck re-validates raw without the jwt library and returns
// why it is invalid, or "" if it is valid.
func independentCheck(ks *signer.KeySet, raw string, now time.Time) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "not three segments"
	}
	var seg [3][]byte
	for i, p := range parts {
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil {
			return "segment is not canonical base64url"
		}
		seg[i] = b
	}
	var h struct {
		Alg, Kid, Typ string
		Crit          any
	}
	if json.Unmarshal(seg[0], &h) != nil {
		return "header is not a JSON object"
	}
	if t := strings.ToLower(h.Typ); t != "at+jwt" && t != "application/at+jwt" {
		return "typ"
	}
	key, ok := ks.Lookup(h.Kid)
	if !ok || h.Alg != key.Alg || h.Crit != nil {
		return "kid, alg or crit"
	}
	signed := []byte(parts[0] + "." + parts[1])
	sum := sha256.Sum256(signed)
	switch pub := key.Public.(type) {
	case *ecdsa.PublicKey:
		if len(seg[2]) != 64 || !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(seg[2][:32]), new(big.Int).SetBytes(seg[2][32:])) {
			return "es256 signature"
		}
	case ed25519.PublicKey:
		if !ed25519.Verify(pub, signed, seg[2]) {
			return "eddsa signature"
		}
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], seg[2]) != nil {
			return "rs256 signature"
		}
	default:
		return "key type"
	}
	if reason := strictMembers(seg[0], false); reason != "" {
		return "header: " + reason
	}
	if reason := strictMembers(seg[1], true); reason != "" {
		return "payload: " + reason
	}
	var c map[string]any
	if json.Unmarshal(seg[1], &c) != nil {
		return "payload is not a JSON object"
	}
	str := func(name string) string { s, _ := c[name].(string); return s }
	num := func(name string) float64 { n, _ := c[name].(float64); return n }
	aud, _ := c["aud"].([]any)
	if s := str("aud"); s != "" {
		aud = []any{s}
	}
	const leeway = float64(DefaultLeeway / time.Second)
	switch {
	case str("iss") != testIssuer:
		return "iss"
	case !slices.Contains(aud, any("api")):
		return "aud"
	case str("sub") == "" || str("jti") == "" || str("client_id") == "":
		return "sub, jti or client_id"
	case num("exp") <= float64(now.Unix())-leeway:
		return "exp"
	case num("iat") == 0 || num("iat") > float64(now.Unix())+leeway:
		return "iat"
	}
	return ""
}

// strictMembers reads the JSON object b with json.Decoder tokens and
// returns "duplicate member" if a name repeats, "date not a number" if,
// with dates, exp, iat or nbf is not a number, or "" otherwise.
func strictMembers(b []byte, dates bool) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "not a JSON object"
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		name, ok := tok.(string)
		if err != nil || !ok {
			return "not a JSON object"
		}
		if seen[name] {
			return "duplicate member"
		}
		seen[name] = true
		var v any
		if dec.Decode(&v) != nil {
			return "not a JSON object"
		}
		if _, isNumber := v.(json.Number); dates && !isNumber && (name == "exp" || name == "iat" || name == "nbf") {
			return "date not a number"
		}
	}
	return ""
}

// FuzzCheckObject checks the JSON scanner that runs before the signature
// against json.Decoder: on valid JSON both find the same duplicates and
// non-numeric dates, and on any input the scanner does not panic.
func FuzzCheckObject(f *testing.F) {
	// The seeds are in testdata/fuzz/FuzzCheckObject.
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, dates := range []bool{false, true} {
			err := checkObject(b, dates)
			if !json.Valid(b) {
				continue
			}
			if want := strictMembers(b, dates); (err == nil) != (want == "") {
				t.Fatalf("checkObject(%q, %v) = %v, json.Decoder says %q", b, dates, err, want)
			}
		}
	})
}

// validateSeeds returns valid tokens of each key and mutations of them.
func validateSeeds(t testing.TB, keys map[string]*signer.Key) []string {
	var seeds []string
	for _, alg := range []string{signer.AlgES256, signer.AlgEdDSA, signer.AlgRS256} {
		k := keys[alg]
		ks, err := signer.NewKeySet(k)
		must(t, err)
		is := &Issuer{Keys: signer.Static(ks), Issuer: testIssuer, Clock: clocktesting.NewFakePassiveClock(t0)}
		tok, _, err := is.IssueFor(Request{Subject: "alice", ClientID: "cli", Audience: []string{"api"}, Scopes: []string{"read"}, Groups: []string{"g"}, TTL: time.Hour})
		must(t, err)
		parts := strings.Split(tok, ".")
		seeds = append(seeds,
			tok,
			tok[:len(tok)-1],
			parts[0]+"."+parts[1]+".",
			parts[0]+"."+segment(t, withClaim(validPayload(), "sub", "mallory"))+"."+parts[2],
			unsigned(t, validHeader(k).with("alg", "none"), validPayload()),
			segment(t, validHeader(k).with("typ", "JWT"))+"."+parts[1]+"."+parts[2],
		)
	}
	es := keys[signer.AlgES256]
	der, err := json.Marshal(es.JWK())
	must(t, err)
	seeds = append(seeds,
		signWith(t, "HS256", validHeader(es).with("alg", "HS256"), validPayload(), der),
		"", ".", "..", "a.b.c", "eyJ9.eyJ9.", strings.Repeat("A", 9000),
	)
	return append(seeds, strictJSONSeeds(t, keys)...)
}

// strictJSONSeeds are tokens, validly signed and valid at fuzzNow, whose
// JSON repeats a member name or spells a date as a string, and one with
// escaped names that is valid.
func strictJSONSeeds(t testing.TB, keys map[string]*signer.Key) []string {
	es, ed, rs := keys[signer.AlgES256], keys[signer.AlgEdDSA], keys[signer.AlgRS256]
	p := func() jwt.MapClaims { return withClaim(validPayload(), "exp", fuzzNow.Add(time.Hour).Unix()) }
	exp := strconv.FormatInt(fuzzNow.Add(time.Hour).Unix(), 10)
	return []string{
		signRaw(t, es, jsonText(t, validHeader(es)), jsonText(t, p(), `"sub":"mallory"`)),
		signRaw(t, ed, jsonText(t, validHeader(ed)), jsonText(t, p(), `"\u0073ub":"mallory"`)),
		signRaw(t, rs, jsonText(t, validHeader(rs), `"typ":"at+jwt"`), jsonText(t, p())),
		signRaw(t, es, jsonText(t, validHeader(es)), jsonText(t, withClaim(p(), "exp", exp))),
		signRaw(t, ed, jsonText(t, validHeader(ed)), jsonText(t, withClaim(p(), "iat", strconv.FormatInt(t0.Unix(), 10)))),
		signRaw(t, rs, jsonText(t, validHeader(rs)), jsonText(t, withClaim(p(), "nbf", strconv.FormatInt(t0.Unix(), 10)))),
		signRaw(t, es, jsonText(t, validHeader(es)), jsonText(t, withoutClaim(p(), "exp"), `"\u0065xp":"`+exp+`"`)),
		signRaw(t, es, jsonText(t, validHeader(es)), jsonText(t, withoutClaim(p(), "exp"), `"\u0065xp":`+exp, `"x":{"a":1,"a":2}`)),
	}
}

// FuzzParseBearer checks ParseBearer against a regular expression of
// RFC 6750 §2.1.
func FuzzParseBearer(f *testing.F) {
	// The seeds are in testdata/fuzz/FuzzParseBearer.
	valid := regexp.MustCompile(`^(?i:bearer) ([A-Za-z0-9\-._~+/]+=*)$`)
	bearer := regexp.MustCompile(`^(?i:bearer)([ \t]|$)`)
	f.Fuzz(func(t *testing.T, header string) {
		token, err := ParseBearer(header)
		switch m := valid.FindStringSubmatch(header); {
		case m != nil:
			if err != nil || token != m[1] {
				t.Fatalf("ParseBearer(%q) = %q, %v; want %q", header, token, err, m[1])
			}
		case bearer.MatchString(header):
			if err != ErrMalformedBearer || token != "" {
				t.Fatalf("ParseBearer(%q) = %q, %v; want ErrMalformedBearer", header, token, err)
			}
		default:
			if err != ErrNoToken || token != "" {
				t.Fatalf("ParseBearer(%q) = %q, %v; want ErrNoToken", header, token, err)
			}
		}
	})
}

var bearerSeeds = []string{
	"", "Bearer abc", "bearer a.b.c", "BEARER abc==", "Bearer", "Bearer ", "Bearer  abc",
	"Bearer\tabc", "Basic dXNlcjpwYXNz", "Bearer a=b", "Bearer abc ", "Bearerabc", "Bearer é",
}

// TestFuzzSeedCorpus keeps the seed corpus in testdata/fuzz, where go test
// runs it every time, in step with the seeds defined here. With
// -update-fuzz-seeds it rewrites the corpus of both targets (after a change
// of the fixtures or the seeds); without, it checks the deterministic one.
func TestFuzzSeedCorpus(t *testing.T) {
	file := func(s string) string { return fmt.Sprintf("go test fuzz v1\nstring(%q)\n", s) }
	path := func(target string, i int) string {
		return filepath.Join("testdata", "fuzz", target, fmt.Sprintf("seed%02d", i))
	}
	if *updateFuzzSeeds {
		write := func(target string, seeds []string) {
			must(t, os.RemoveAll(filepath.Join("testdata", "fuzz", target)))
			must(t, os.MkdirAll(filepath.Join("testdata", "fuzz", target), 0o755))
			for i, s := range seeds {
				must(t, os.WriteFile(path(target, i), []byte(file(s)), 0o644))
			}
		}
		write("FuzzValidate", validateSeeds(t, fixtureKeys(t)))
		write("FuzzParseBearer", bearerSeeds)
	}
	for i, s := range bearerSeeds {
		got, err := os.ReadFile(path("FuzzParseBearer", i))
		if err != nil || string(got) != file(s) {
			t.Errorf("%s is not seed %q (%v): run go test -run TestFuzzSeedCorpus -update-fuzz-seeds", path("FuzzParseBearer", i), s, err)
		}
	}
}

// TestFuzzSeedsValid checks that the committed corpus still holds a valid
// token of each algorithm, so FuzzValidate starts from accepted inputs.
func TestFuzzSeedsValid(t *testing.T) {
	keys := fixtureKeys(t)
	ks, err := signer.NewKeySet(keys[signer.AlgES256], keys[signer.AlgEdDSA], keys[signer.AlgRS256])
	must(t, err)
	v := &Validator{Keys: signer.Static(ks), Issuer: testIssuer, Audiences: []string{"api"}, Clock: clocktesting.NewFakePassiveClock(fuzzNow)}
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzValidate", "*"))
	must(t, err)
	algs := map[string]bool{}
	for _, name := range files {
		data, err := os.ReadFile(name)
		must(t, err)
		line := strings.TrimSpace(strings.TrimPrefix(string(data), "go test fuzz v1\n"))
		raw, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(line, "string("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := v.Validate(raw); err == nil {
			var h struct{ Alg string }
			b, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
			_ = json.Unmarshal(b, &h)
			algs[h.Alg] = true
			if reason := independentCheck(ks, raw, fuzzNow); reason != "" {
				t.Errorf("%s: independent check disagrees: %s", name, reason)
			}
		}
	}
	for _, alg := range []string{signer.AlgES256, signer.AlgEdDSA, signer.AlgRS256} {
		if !algs[alg] {
			t.Errorf("no valid %s token in the FuzzValidate corpus", alg)
		}
	}
}
