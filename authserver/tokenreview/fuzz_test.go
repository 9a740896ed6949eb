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

package tokenreview_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"

	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/tokenreview"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

const (
	issuer   = "https://auth.example.test"
	audience = "https://kubernetes.example.test"
)

// FuzzTokenReview posts arbitrary bodies and content types: the answer is
// a 4xx OAuth error or a 200 TokenReview of the version asked, never a
// 500 or a panic; it authenticates only the one valid token, and then only
// names under the prefix, and never holds the token.
func FuzzTokenReview(f *testing.F) {
	keys := signer.Static(authtest.KeySet(f, signer.AlgES256))
	tok, _, err := (&accesstoken.Issuer{Keys: keys, Issuer: issuer}).IssueFor(accesstoken.Request{
		Subject: "alice", ClientID: "kubectl", Audience: []string{audience}, Groups: []string{"readers", "system:masters"},
		Scopes: []string{"read"}, SessionID: "s1", TTL: time.Hour,
	})
	if err != nil {
		f.Fatal(err)
	}
	const ctype = "application/json"
	body := func(version, kind, spec string) string {
		return `{"apiVersion":"` + version + `","kind":"` + kind + `","metadata":{"creationTimestamp":null},"spec":` + spec + `,"status":{"user":{}}}`
	}
	for _, s := range []struct{ body, ctype string }{
		{body("authentication.k8s.io/v1", "TokenReview", `{"token":"`+tok+`","audiences":["https://kubernetes.default.svc"]}`), ctype},
		{body("authentication.k8s.io/v1beta1", "TokenReview", `{"token":"`+tok+`"}`), "application/json; charset=utf-8"},
		{body("authentication.k8s.io/v1", "TokenReview", `{"token":"`+strings.Replace(tok, ".", `\u002e`, 1)+`"}`), ctype},
		{body("authentication.k8s.io/v1", "TokenReview", `{"token":"`+tok[:len(tok)-2]+`"}`), ctype},
		{body("authentication.k8s.io/v1", "TokenReview", `{"token":"a.b.c"}`), ctype},
		{body("authentication.k8s.io/v2", "TokenReview", `{"token":"a.b.c"}`), ctype},
		{body("authentication.k8s.io/v1", "SubjectAccessReview", `{"token":"a.b.c"}`), ctype},
		{body("authentication.k8s.io/v1", "TokenReview", `{"token":""}`), ctype},
		{body("authentication.k8s.io/v1", "TokenReview", `{"token":1}`), ctype},
		{body("authentication.k8s.io/v1", "TokenReview", `{"token":"a","extra":true}`), ctype},
		{body("authentication.k8s.io/v1", "TokenReview", `{"token":"a.b.c"}`) + "{}", ctype},
		{`{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"\ud800"}}`, ctype},
		{`{"kind":"TokenReview","kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"x","token":"y"}}`, ctype},
		{`{`, ctype}, {`null`, ctype}, {`[]`, ctype}, {``, ctype}, {`"TokenReview"`, ctype},
		{body("authentication.k8s.io/v1", "TokenReview", `{"token":"a.b.c"}`), "text/plain"},
		{`token=a.b.c`, "application/x-www-form-urlencoded"},
	} {
		f.Add(s.body, s.ctype)
	}
	h := &tokenreview.Handler{
		Auth:   &resourceserver.Authenticator{Validator: &accesstoken.Validator{Keys: keys, Issuer: issuer, Audiences: []string{audience}}},
		Prefix: tokenreview.DefaultPrefix, Validations: metrics.New().Validations("tokenreview"),
	}
	f.Fuzz(func(t *testing.T, body, ctype string) {
		req := httptest.NewRequest(http.MethodPost, tokenreview.Path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatal("missing Cache-Control: no-store")
		}
		switch rec.Code {
		case http.StatusOK:
			checkReview(t, rec, body, tok)
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			var e struct{ Error string }
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error != "invalid_request" {
				t.Fatalf("%d without an invalid_request body: %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}

// checkReview checks a 200 answer to body.
func checkReview(t *testing.T, rec *httptest.ResponseRecorder, body, tok string) {
	t.Helper()
	var asked, got authenticationv1.TokenReview
	if err := json.Unmarshal([]byte(body), &asked); err != nil {
		t.Fatalf("200 for a body that does not decode: %v", err)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("200 without a TokenReview: %s", rec.Body)
	}
	if got.APIVersion != asked.APIVersion || got.Kind != "TokenReview" || got.Spec.Token != "" ||
		len(asked.Spec.Token) >= 16 && strings.Contains(rec.Body.String(), asked.Spec.Token) {
		t.Fatalf("answer %s to %s: another version or kind, or the token", rec.Body, body)
	}
	st := got.Status
	if !st.Authenticated {
		if st.Error == "" || st.User.Username != "" || len(st.User.Groups) != 0 {
			t.Fatalf("a refusal with a user or without a reason: %s", rec.Body)
		}
		return
	}
	if asked.Spec.Token != tok {
		t.Fatalf("authenticated another token than the valid one: %s", body)
	}
	if st.User.Username != tokenreview.DefaultPrefix+"alice" || len(st.User.Groups) != 2 || len(st.Audiences) != 0 {
		t.Fatalf("answer %s", rec.Body)
	}
	for _, g := range st.User.Groups {
		if !strings.HasPrefix(g, tokenreview.DefaultPrefix) {
			t.Fatalf("group %q without the prefix", g)
		}
	}
}
