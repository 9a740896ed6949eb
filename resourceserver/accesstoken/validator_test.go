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
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
)

// validator returns a Validator at t0+1m for the keys of src.
func validator(src signer.Source) *Validator {
	return &Validator{Keys: src, Issuer: testIssuer, Audiences: []string{"api", "other-api"}, Clock: clocktesting.NewFakePassiveClock(t0.Add(time.Minute))}
}

func TestValidateAccepts(t *testing.T) {
	keys := fixtureKeys(t)
	for alg, k := range keys {
		t.Run(alg, func(t *testing.T) {
			v := validator(newSource(t, k))
			for name, mutate := range map[string]func(h map[string]any, p jwt.MapClaims){
				"plain":                     func(map[string]any, jwt.MapClaims) {},
				"typ upper case":            func(h map[string]any, _ jwt.MapClaims) { h["typ"] = "AT+JWT" },
				"typ media type":            func(h map[string]any, _ jwt.MapClaims) { h["typ"] = "application/at+jwt" },
				"typ media type mixed case": func(h map[string]any, _ jwt.MapClaims) { h["typ"] = "Application/At+JWT" },
				"aud string":                func(_ map[string]any, p jwt.MapClaims) { p["aud"] = "api" },
				"second audience":           func(_ map[string]any, p jwt.MapClaims) { p["aud"] = []string{"x", "other-api"} },
				"expired within leeway":     func(_ map[string]any, p jwt.MapClaims) { p["exp"] = t0.Add(time.Minute - 3*time.Second).Unix() },
				"iat ahead within leeway":   func(_ map[string]any, p jwt.MapClaims) { p["iat"] = t0.Add(time.Minute + 3*time.Second).Unix() },
				"no scope":                  func(_ map[string]any, p jwt.MapClaims) { delete(p, "scope") },
			} {
				h, p := validHeader(k), validPayload()
				mutate(h, p)
				claims, err := v.Validate(signWith(t, alg, h, p, k.Private))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if claims.Subject != "alice" || claims.ClientID != "cli" {
					t.Errorf("%s: claims = %+v", name, claims)
				}
			}
		})
	}
}

// TestValidateRejects holds the regression tests: every token here must be
// refused with ErrInvalidToken and the given reason.
func TestValidateRejects(t *testing.T) {
	keys := fixtureKeys(t)
	es, ed, rs := keys[signer.AlgES256], keys[signer.AlgEdDSA], keys[signer.AlgRS256]
	src := newSource(t, es, ed, rs)

	// sign returns a token signed by k after mutating a valid header and
	// payload.
	sign := func(k *signer.Key, mutate func(h map[string]any, p jwt.MapClaims)) string {
		h, p := validHeader(k), validPayload()
		mutate(h, p)
		return signWith(t, k.Alg, h, p, k.Private)
	}
	payload := func(mutate func(p jwt.MapClaims)) string {
		return sign(es, func(_ map[string]any, p jwt.MapClaims) { mutate(p) })
	}
	header := func(k *signer.Key, mutate func(h map[string]any)) string {
		return sign(k, func(h map[string]any, _ jwt.MapClaims) { mutate(h) })
	}
	hmacWith := func(k *signer.Key, secret []byte) string {
		return signWith(t, "HS256", validHeader(k).with("alg", "HS256"), validPayload(), secret)
	}
	pkix := func(k *signer.Key) []byte {
		der, err := x509.MarshalPKIXPublicKey(k.Public)
		must(t, err)
		return der
	}
	pemOf := func(k *signer.Key) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix(k)})
	}
	valid := sign(es, func(map[string]any, jwt.MapClaims) {})
	parts := strings.Split(valid, ".")

	// A key that signed tokens, then left the set.
	removed := authtest.Key(t, signer.AlgES256)

	// raw signs exact JSON texts; members are appended to the valid ones.
	rawPayload := func(members ...string) string {
		return signRaw(t, es, jsonText(t, validHeader(es)), jsonText(t, validPayload(), members...))
	}
	rawHeader := func(members ...string) string {
		return signRaw(t, es, jsonText(t, validHeader(es), members...), jsonText(t, validPayload()))
	}
	exp := strconv.FormatInt(t0.Add(5*time.Minute).Unix(), 10)

	tests := []struct {
		name   string
		token  string
		reason string
	}{
		// Algorithm confusion.
		{"alg none", unsigned(t, validHeader(es).with("alg", "none"), validPayload()), "unsupported algorithm"},
		{"alg none keeping signature", unsigned(t, validHeader(es).with("alg", "none"), validPayload()) + parts[2], "unsupported algorithm"},
		{"alg None", unsigned(t, validHeader(es).with("alg", "None"), validPayload()), "unsupported algorithm"},
		{"alg none via jwt", signWith(t, "none", validHeader(es).with("alg", "none"), validPayload(), jwt.UnsafeAllowNoneSignatureType), "unsupported algorithm"},
		{"alg missing", unsigned(t, validHeader(es).without("alg"), validPayload()) + parts[2], "unsupported algorithm"},
		{"HS256 with ec public key PEM", hmacWith(es, pemOf(es)), "unsupported algorithm"},
		{"HS256 with ec public key DER", hmacWith(es, pkix(es)), "unsupported algorithm"},
		{"HS256 with rsa public key PEM", hmacWith(rs, pemOf(rs)), "unsupported algorithm"},
		{"HS256 with rsa public key DER", hmacWith(rs, pkix(rs)), "unsupported algorithm"},
		{"HS256 with ed25519 public key", hmacWith(ed, ed.Public.(ed25519.PublicKey)), "unsupported algorithm"},
		{"EdDSA token under the ES256 kid", signWith(t, "EdDSA", validHeader(es).with("alg", "EdDSA"), validPayload(), ed.Private), "algorithm does not match key"},
		{"RS256 token under the EdDSA kid", signWith(t, "RS256", validHeader(ed).with("alg", "RS256"), validPayload(), rs.Private), "algorithm does not match key"},
		{"PS256 with the rsa key", signWith(t, "PS256", validHeader(rs).with("alg", "PS256"), validPayload(), rs.Private), "unsupported algorithm"},

		// Signature.
		{"modified payload", parts[0] + "." + segment(t, withClaim(validPayload(), "sub", "mallory")) + "." + parts[2], "invalid signature"},
		{"modified header", segment(t, validHeader(es).with("x", 1)) + "." + parts[1] + "." + parts[2], "invalid signature"},
		{"signature of another key", parts[0] + "." + parts[1] + "." + strings.Split(sign(removed, func(map[string]any, jwt.MapClaims) {}), ".")[2], "invalid signature"},
		{"empty signature", parts[0] + "." + parts[1] + ".", "invalid signature"},
		{"non-canonical signature encoding", parts[0] + "." + parts[1] + "." + flipPadBits(parts[2]), "malformed token"},

		// Header.
		{"typ JWT", header(es, func(h map[string]any) { h["typ"] = "JWT" }), "wrong token type"},
		{"typ missing", header(es, func(h map[string]any) { delete(h, "typ") }), "wrong token type"},
		{"typ not a string", header(es, func(h map[string]any) { h["typ"] = []string{"at+jwt"} }), "wrong token type"},
		{"typ with parameter", header(es, func(h map[string]any) { h["typ"] = "at+jwt; x=y" }), "wrong token type"},
		{"kid missing", header(es, func(h map[string]any) { delete(h, "kid") }), "missing key id"},
		{"kid empty", header(es, func(h map[string]any) { h["kid"] = "" }), "missing key id"},
		{"kid not a string", header(es, func(h map[string]any) { h["kid"] = 42 }), "missing key id"},
		{"kid unknown", header(es, func(h map[string]any) { h["kid"] = "nope" }), "unknown key id"},
		{"signed by a removed key", sign(removed, func(map[string]any, jwt.MapClaims) {}), "unknown key id"},
		{"crit", header(es, func(h map[string]any) { h["crit"] = []string{"exp"}; h["exp"] = 1 }), "unsupported critical header"},

		// Lifetime.
		{"expired", payload(func(p jwt.MapClaims) { p["exp"] = t0.Unix() }), "token expired"},
		{"exp missing", payload(func(p jwt.MapClaims) { delete(p, "exp") }), "missing required claim"},
		{"exp not a number", payload(func(p jwt.MapClaims) { p["exp"] = "tomorrow" }), "malformed token"},
		{"iat far in the future", payload(func(p jwt.MapClaims) {
			p["iat"] = t0.Add(24 * time.Hour).Unix()
			p["exp"] = t0.Add(25 * time.Hour).Unix()
		}), "token issued in the future"},
		{"iat missing", payload(func(p jwt.MapClaims) { delete(p, "iat") }), "missing iat claim"},
		{"nbf in the future", payload(func(p jwt.MapClaims) { p["nbf"] = t0.Add(time.Hour).Unix() }), "token not yet valid"},
		// NumericDate is a JSON number (RFC 7519 §2); golang-jwt would read
		// a string holding one.
		{"exp a JSON string", payload(func(p jwt.MapClaims) { p["exp"] = exp }), "malformed token"},
		{"iat a JSON string", payload(func(p jwt.MapClaims) { p["iat"] = strconv.FormatInt(t0.Unix(), 10) }), "malformed token"},
		{"nbf a JSON string", payload(func(p jwt.MapClaims) { p["nbf"] = strconv.FormatInt(t0.Unix(), 10) }), "malformed token"},
		{"nbf null", payload(func(p jwt.MapClaims) { p["nbf"] = nil }), "malformed token"},
		{"exp null", payload(func(p jwt.MapClaims) { p["exp"] = nil }), "malformed token"},

		// Duplicate member names (RFC 7515 §5.2, RFC 7519 §4: reject or
		// use the last; authstack rejects).
		{"duplicate claim", rawPayload(`"sub":"mallory"`), "malformed token"},
		{"duplicate claim with the same value", rawPayload(`"sub":"alice"`), "malformed token"},
		{"duplicate claim spelled with an escape", rawPayload(`"\u0073ub":"mallory"`), "malformed token"},
		{"duplicate exp", rawPayload(`"exp":` + exp), "malformed token"},
		{"duplicate header member", rawHeader(`"typ":"at+jwt"`), "malformed token"},
		{"duplicate alg", rawHeader(`"alg":"none"`), "malformed token"},
		{"escaped exp holding a string", signRaw(t, es, jsonText(t, validHeader(es)),
			jsonText(t, withoutClaim(validPayload(), "exp"), `"\u0065xp":"`+exp+`"`)), "malformed token"},

		// Audience and issuer.
		{"aud missing", payload(func(p jwt.MapClaims) { delete(p, "aud") }), "missing required claim"},
		{"aud empty string", payload(func(p jwt.MapClaims) { p["aud"] = "" }), "missing required claim"},
		{"aud empty array", payload(func(p jwt.MapClaims) { p["aud"] = []string{} }), "missing required claim"},
		{"aud array of empty string", payload(func(p jwt.MapClaims) { p["aud"] = []string{""} }), "missing required claim"},
		{"aud wrong", payload(func(p jwt.MapClaims) { p["aud"] = []string{"elsewhere"} }), "wrong audience"},
		{"aud prefix", payload(func(p jwt.MapClaims) { p["aud"] = "api2" }), "wrong audience"},
		{"iss wrong", payload(func(p jwt.MapClaims) { p["iss"] = "https://evil.test" }), "wrong issuer"},
		{"iss trailing slash", payload(func(p jwt.MapClaims) { p["iss"] = testIssuer + "/" }), "wrong issuer"},
		{"iss missing", payload(func(p jwt.MapClaims) { delete(p, "iss") }), "missing required claim"},

		// Other required claims.
		{"sub missing", payload(func(p jwt.MapClaims) { delete(p, "sub") }), "missing sub claim"},
		{"jti missing", payload(func(p jwt.MapClaims) { delete(p, "jti") }), "missing jti claim"},
		{"client_id missing", payload(func(p jwt.MapClaims) { delete(p, "client_id") }), "missing client_id claim"},
		{"client_id empty", payload(func(p jwt.MapClaims) { p["client_id"] = "" }), "missing client_id claim"},

		// Shape.
		{"empty", "", "empty token"},
		{"one segment", "abc", "malformed token"},
		{"two segments", parts[0] + "." + parts[1], "malformed token"},
		{"four segments", valid + ".x", "malformed token"},
		{"header not base64", "!!." + parts[1] + "." + parts[2], "malformed token"},
		{"header not json", base64.RawURLEncoding.EncodeToString([]byte("at+jwt")) + "." + parts[1] + "." + parts[2], "malformed token"},
		{"padded", parts[0] + "=." + parts[1] + "." + parts[2], "malformed token"},
		{"JWE shape", "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "malformed token"},
		{"8 KiB and one byte", valid + "." + strings.Repeat("A", DefaultMaxTokenBytes-len(valid)), "token too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := validator(src)
			claims, err := v.Validate(tc.token)
			if err == nil {
				t.Fatalf("Validate = %+v, want error", claims)
			}
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("error %v is not ErrInvalidToken", err)
			}
			if want := "invalid token: " + tc.reason; err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
			for _, part := range strings.Split(tc.token, ".") {
				if len(part) > 8 && strings.Contains(err.Error(), part) {
					t.Errorf("error %q contains the token", err)
				}
			}
		})
	}
}

// TestValidateJSONForms checks that the duplicate and date checks refuse
// nothing else: JSON spellings encoding/json reads as a valid token.
func TestValidateJSONForms(t *testing.T) {
	k := fixtureKey(t, "es256")
	v := validator(newSource(t, k))
	h := jsonText(t, validHeader(k))
	exp := strconv.FormatInt(t0.Add(5*time.Minute).Unix(), 10)
	for name, payload := range map[string]string{
		"escaped names":         jsonText(t, withoutClaim(withoutClaim(validPayload(), "scope"), "exp"), `"\u0073cope":"read"`, `"\u0065xp":`+exp),
		"whitespace":            " \t\r\n" + strings.NewReplacer(`":`, `" : `, `,"`, ` ,`+"\n "+`"`).Replace(jsonText(t, validPayload())) + " ",
		"exp with an exponent":  jsonText(t, withoutClaim(validPayload(), "exp"), `"exp":`+exp+`e0`),
		"exp with a fraction":   jsonText(t, withoutClaim(validPayload(), "exp"), `"exp":`+exp+`.5`),
		"nested repeated names": jsonText(t, validPayload(), `"x":{"a":1,"a":[{"a":2}]}`),
		"braces in strings":     jsonText(t, validPayload(), `"x":"}\",\"sub\":\"mallory\"{"`, `"groups":["a]","{b"]`),
		"unicode names":         jsonText(t, validPayload(), `"sübject":"x"`, `"s\u00fcbject2":"y"`),
		"many claims":           jsonText(t, validPayload(), manyClaims(40)...),
	} {
		if _, err := v.Validate(signRaw(t, k, h, payload)); err != nil {
			t.Errorf("%s: %v (%s)", name, err, payload)
		}
	}
}

// manyClaims returns n distinct members, more than checkObject keeps on
// the stack.
func manyClaims(n int) []string {
	var m []string
	for i := range n {
		m = append(m, `"c`+strconv.Itoa(i)+`":`+strconv.Itoa(i))
	}
	return m
}

// TestCheckObject is the table of the JSON scanner.
func TestCheckObject(t *testing.T) {
	for _, tc := range []struct {
		json  string
		dates bool
		want  error
	}{
		{`{}`, true, nil},
		{` { } `, true, nil},
		{`{"a":1,"b":"x","c":[1,{"a":2}],"d":{"a":{"a":3}},"e":null,"f":true}`, true, nil},
		{`{"exp":1,"iat":-2,"nbf":3.5e1}`, true, nil},
		{`{"exp":"1"}`, false, nil}, // the header: exp means nothing there
		{`{"exp":"1"}`, true, errDateNotNumber},
		{`{"iat":null}`, true, errDateNotNumber},
		{`{"nbf":[1]}`, true, errDateNotNumber},
		{`{"\u006ebf":"1"}`, true, errDateNotNumber},
		{`{"a":1,"a":1}`, false, errDuplicateMember},
		{`{"a":1,"\u0061":1}`, false, errDuplicateMember},
		{`{"é":1,"\u00e9":1}`, false, errDuplicateMember},
		{`{"\ud83d\ude00":1,"😀":1}`, false, errDuplicateMember},
		{`{"a\"b":1,"a\u0022b":1}`, false, errDuplicateMember},
		{`{"a":"\"","a":1}`, false, errDuplicateMember},
		{`{"x":"}","a":1,"a":2}`, false, errDuplicateMember},
		{`{` + strings.Join(manyClaims(30), ",") + `,"c7":1}`, false, errDuplicateMember},
		{`{` + strings.Join(manyClaims(30), ",") + `,"c29":1}`, false, errDuplicateMember},
		{`{` + strings.Join(manyClaims(30), ",") + `,"c30":1}`, false, nil},
		{`{"a":1,"A":1}`, false, nil}, // names are case-sensitive (RFC 7515 §4)
		{``, false, errNotObject},
		{`[]`, false, errNotObject},
		{`"a"`, false, errNotObject},
		{`{"a":1`, false, errNotObject},
		{`{"a":1}x`, false, errNotObject},
		{`{"a":1,}`, false, errNotObject},
		{`{"a"}`, false, errNotObject},
		{`{"a":}`, false, errNotObject},
		{`{"a:1}`, false, errNotObject},
		{`{"a":"\"}`, false, errNotObject},
		{`{a:1}`, false, errNotObject},
	} {
		if got := checkObject([]byte(tc.json), tc.dates); got != tc.want {
			t.Errorf("checkObject(%s, %v) = %v, want %v", tc.json, tc.dates, got, tc.want)
		}
	}
}

// TestValidateAudiences covers the aud rules without configured audiences.
func TestValidateAudiences(t *testing.T) {
	k := fixtureKey(t, "es256")
	v := validator(newSource(t, k))
	v.Audiences = nil
	for _, tc := range []struct {
		aud    any
		reason string // "" for valid
	}{
		{[]string{"anything"}, ""},
		{"anything", ""},
		{[]string{"", "x"}, ""},
		{nil, "missing aud claim"},
		{"", "missing aud claim"},
		{[]string{}, "missing aud claim"},
		{[]string{""}, "missing aud claim"},
	} {
		p := validPayload()
		if tc.aud == nil {
			delete(p, "aud")
		} else {
			p["aud"] = tc.aud
		}
		_, err := v.Validate(signWith(t, k.Alg, validHeader(k), p, k.Private))
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("aud %#v: %v", tc.aud, err)
		case tc.reason != "" && (err == nil || err.Error() != "invalid token: "+tc.reason):
			t.Errorf("aud %#v: error %v, want %q", tc.aud, err, tc.reason)
		}
	}
}

// TestValidateOversizeNotParsed checks that an oversize token is refused
// before the key set is even consulted.
func TestValidateOversizeNotParsed(t *testing.T) {
	src := newSource(t, fixtureKey(t, "es256"))
	v := validator(src)
	huge := "eyJhbGciOiJub25lIn0." + strings.Repeat("A", 1<<20) + "."
	before := src.calls.Load()
	_, err := v.Validate(huge)
	if !errors.Is(err, ErrInvalidToken) || err.Error() != "invalid token: token too large" {
		t.Fatalf("error = %v", err)
	}
	if src.calls.Load() != before {
		t.Error("oversize token reached the key set")
	}

	v.MaxTokenBytes = 64
	if _, err := v.Validate(strings.Repeat("A", 65)); err == nil || err.Error() != "invalid token: token too large" {
		t.Errorf("MaxTokenBytes not applied: %v", err)
	}
}

// TestValidateRotation follows a key through rotation: tokens of the
// previous key validate while it stays in the set as verify-only, and fail
// once it is removed.
func TestValidateRotation(t *testing.T) {
	oldKey, newKey := authtest.Key(t, signer.AlgES256), authtest.Key(t, signer.AlgES256)
	src := newSource(t, oldKey)
	is := &Issuer{Keys: src, Issuer: testIssuer, Clock: clocktesting.NewFakePassiveClock(t0)}
	v := validator(src)

	oldToken, _, err := is.IssueFor(Request{Subject: "alice", ClientID: "cli", Audience: []string{"api"}, TTL: time.Hour})
	must(t, err)

	oldPublic, err := signer.NewPublicKey(oldKey.Public)
	must(t, err)
	src.set(t, newKey, oldPublic)
	newToken, _, err := is.IssueFor(Request{Subject: "bob", ClientID: "cli", Audience: []string{"api"}, TTL: time.Hour})
	must(t, err)
	for _, tok := range []string{oldToken, newToken} {
		if _, err := v.Validate(tok); err != nil {
			t.Errorf("during rotation: %v", err)
		}
	}

	src.set(t, newKey)
	_, err = v.Validate(oldToken)
	if err == nil || err.Error() != "invalid token: unknown key id" {
		t.Errorf("after removal: %v, want unknown key id", err)
	}
	// The refused kid is told, for a key source that can fetch again.
	if kid, ok := UnknownKey(err); !ok || kid != oldKey.ID {
		t.Errorf("UnknownKey(after removal) = %q, %v; want %q", kid, ok, oldKey.ID)
	}
	if _, ok := UnknownKey(Invalid("token revoked")); ok {
		t.Error("UnknownKey of another refusal is true")
	}
	if _, err := v.Validate(newToken); err != nil {
		t.Errorf("after removal, new token: %v", err)
	}

	// With the last ES256 key gone, ES256 itself is no longer accepted.
	src.set(t, authtest.Key(t, signer.AlgEdDSA))
	if _, err := v.Validate(newToken); err == nil || err.Error() != "invalid token: unsupported algorithm" {
		t.Errorf("after algorithm change: %v, want unsupported algorithm", err)
	}
}

// TestValidateLeeway checks the leeway settings on exp.
func TestValidateLeeway(t *testing.T) {
	k := fixtureKey(t, "eddsa")
	tok := signWith(t, k.Alg, validHeader(k), validPayload(), k.Private) // exp = t0+5m
	for _, tc := range []struct {
		leeway time.Duration
		now    time.Time
		ok     bool
	}{
		{0, t0.Add(5*time.Minute + 4*time.Second), true}, // default 5s
		{0, t0.Add(5*time.Minute + 5*time.Second), false},
		{-1, t0.Add(5 * time.Minute), false},
		{-1, t0.Add(5*time.Minute - time.Second), true},
		{time.Minute, t0.Add(5*time.Minute + 59*time.Second), true},
	} {
		v := &Validator{Keys: newSource(t, k), Issuer: testIssuer, Leeway: tc.leeway, Clock: clocktesting.NewFakePassiveClock(tc.now)}
		if _, err := v.Validate(tok); (err == nil) != tc.ok {
			t.Errorf("leeway %v at exp%+v: error %v, want ok=%v", tc.leeway, tc.now.Sub(t0.Add(5*time.Minute)), err, tc.ok)
		}
	}
}

// TestValidateMisconfigured checks that configuration errors are not
// reported as invalid tokens.
func TestValidateMisconfigured(t *testing.T) {
	k := fixtureKey(t, "es256")
	tok := signWith(t, k.Alg, validHeader(k), validPayload(), k.Private)
	for name, v := range map[string]*Validator{
		"no issuer": {Keys: newSource(t, k), Clock: clocktesting.NewFakePassiveClock(t0)},
		"no keys":   {Issuer: testIssuer, Clock: clocktesting.NewFakePassiveClock(t0)},
		"nil set":   {Keys: &source{}, Issuer: testIssuer, Clock: clocktesting.NewFakePassiveClock(t0)},
	} {
		_, err := v.Validate(tok)
		if err == nil || errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: error %v, want a configuration error", name, err)
		}
	}
}

// flipPadBits returns s, a base64url string whose last character carries
// unused low bits, with those bits set: it decodes to the same bytes
// unless decoding is strict.
func flipPadBits(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[last|0x03])
}

// withoutClaim returns p without name.
func withoutClaim(p jwt.MapClaims, name string) jwt.MapClaims {
	delete(p, name)
	return p
}

// withClaim returns p with name set to value.
func withClaim(p jwt.MapClaims, name string, value any) jwt.MapClaims {
	p[name] = value
	return p
}

// TestCheckTimesAgreesWithValidate: at every second around a token's nbf,
// iat and exp, and for each leeway, CheckTimes refuses the claims of a
// token Validate accepted exactly when Validate refuses the token, with the
// same reason.
func TestCheckTimesAgreesWithValidate(t *testing.T) {
	k := fixtureKeys(t)[signer.AlgES256]
	p := validPayload()
	p["nbf"] = t0.Add(30 * time.Second).Unix()
	raw := signWith(t, k.Alg, validHeader(k), p, k.Private)
	for _, leeway := range []time.Duration{0, -1, 20 * time.Second} {
		clk := clocktesting.NewFakePassiveClock(t0.Add(time.Minute))
		v := &Validator{Keys: newSource(t, k), Issuer: testIssuer, Audiences: []string{"api"}, Leeway: leeway, Clock: clk}
		claims, err := v.Validate(raw)
		must(t, err)
		refusals := 0
		for s := -90; s <= 6*60; s++ {
			clk.SetTime(t0.Add(time.Duration(s) * time.Second))
			_, verr := v.Validate(raw)
			cerr := v.CheckTimes(claims)
			if (verr == nil) != (cerr == nil) || verr != nil && Reason(verr) != Reason(cerr) {
				t.Fatalf("leeway %v, t0%+ds: Validate %v, CheckTimes %v", leeway, s, verr, cerr)
			}
			if cerr != nil {
				refusals++
				if !errors.Is(cerr, ErrInvalidToken) {
					t.Fatalf("CheckTimes error %v is not ErrInvalidToken", cerr)
				}
			}
		}
		if refusals == 0 {
			t.Errorf("leeway %v: no refusal in the range", leeway)
		}
	}
}
