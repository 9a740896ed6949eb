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

package authserver_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authenticationv1beta1 "k8s.io/api/authentication/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/authserver/tokenreview"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/store/conformance"
	"github.com/authstack/authstack/internal/store/memory"
)

// kubeAPIAudience is what kube-apiserver sends in spec.audiences: its own
// --api-audiences, not an audience of authstack's.
const kubeAPIAudience = "https://kubernetes.default.svc.cluster.local"

// withTokenReview serves /tokenreview for billing's tokens.
func withTokenReview() option {
	return withConfig(func(c *testConfig) {
		c.TokenReviewAudiences = []string{billingAudience}
		c.TokenReviewPrefix = tokenreview.DefaultPrefix
	})
}

// reviewBody is the TokenReview kube-apiserver posts.
func reviewBody(t *testing.T, apiVersion, tok string) string {
	t.Helper()
	b, err := json.Marshal(&authenticationv1.TokenReview{
		TypeMeta: metav1.TypeMeta{Kind: "TokenReview", APIVersion: apiVersion},
		Spec:     authenticationv1.TokenReviewSpec{Token: tok, Audiences: []string{kubeAPIAudience}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (ts *testServer) tokenReview(body string) *httptest.ResponseRecorder {
	ts.t.Helper()
	ts.caughtUp()
	return ts.do(request{path: tokenreview.Path, body: body, ctype: "application/json"})
}

// review posts tok and returns the status of the answer, which must be a
// 200 TokenReview of the version asked, without the token.
func (ts *testServer) review(t *testing.T, apiVersion, tok string) authenticationv1.TokenReviewStatus {
	t.Helper()
	rec := ts.tokenReview(reviewBody(t, apiVersion, tok))
	got := decode[authenticationv1.TokenReview](t, rec)
	if rec.Code != http.StatusOK || got.APIVersion != apiVersion || got.Kind != "TokenReview" {
		t.Fatalf("%d %s, want 200 and a %s TokenReview", rec.Code, rec.Body, apiVersion)
	}
	if strings.Contains(rec.Body.String(), tok) || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("answer %q with Cache-Control %q: holds the token, or may be cached", rec.Body, rec.Header().Get("Cache-Control"))
	}
	return got.Status
}

const v1 = "authentication.k8s.io/v1"

// A valid token of the webhook's audience authenticates its user under the
// prefix, in either version, with status.audiences empty (the API server
// then judges by its own --api-audiences).
func TestTokenReviewAuthenticates(t *testing.T) {
	ts := newTestServer(t, withTokenReview())
	tr := ts.login(t)
	sid := parseUnverified(t, tr.AccessToken).SessionID
	if sid == "" {
		t.Fatal("billing's token has no sid")
	}
	for _, version := range []string{v1, authenticationv1beta1.SchemeGroupVersion.String()} {
		st := ts.review(t, version, tr.AccessToken)
		want := authenticationv1.UserInfo{
			Username: "authstack:alice",
			Groups:   []string{"authstack:readers", "authstack:writers"},
			Extra: map[string]authenticationv1.ExtraValue{
				tokenreview.ExtraClientID:  {"billing"},
				tokenreview.ExtraSessionID: {sid},
				tokenreview.ExtraScopes:    {"read", "write"},
			},
		}
		if !st.Authenticated || st.Error != "" || len(st.Audiences) != 0 || !equalUser(st.User, want) {
			t.Errorf("%s: status %+v, want authenticated as %+v, no audiences", version, st, want)
		}
	}
	body := ts.doOn(ts.srv.OpsHandler(), http.MethodGet, "/metrics").Body.String()
	for _, want := range []string{
		`authstack_http_requests_total{code="200",handler="/tokenreview"} 2`,
		`authstack_bearer_validations_total{endpoint="tokenreview",outcome="success"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func equalUser(a, b authenticationv1.UserInfo) bool {
	if a.Username != b.Username || a.UID != b.UID || !slices.Equal(a.Groups, b.Groups) || len(a.Extra) != len(b.Extra) {
		return false
	}
	for k, v := range b.Extra {
		if !slices.Equal(a.Extra[k], v) {
			return false
		}
	}
	return true
}

// Every token /verify refuses is answered authenticated: false, with the
// reason and no user: HTTP 200, the webhook's "no".
func TestTokenReviewRefusesWhatVerifyRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string
		// tok gets the token to review, after changing what it changes.
		tok func(t *testing.T, ts *testServer) string
	}{
		{"wrong audience", "wrong audience", func(_ *testing.T, ts *testServer) string { return ts.mustToken() }},
		{"expired", "token expired", func(t *testing.T, ts *testServer) string {
			tok := ts.login(t).AccessToken
			ts.clock.Step(time.Hour)
			return tok
		}},
		{"bad signature", "invalid signature", func(t *testing.T, ts *testServer) string { return tamper(t, ts.login(t).AccessToken) }},
		{"not a JWT", "malformed token", func(*testing.T, *testServer) string { return "abc.def" }},
		{"too large", "token too large", func(*testing.T, *testServer) string { return strings.Repeat("a", 20_000) }},
		{"refresh token revoked", "token revoked", func(t *testing.T, ts *testServer) string {
			tr := ts.login(t)
			if rec := ts.post("/revoke", billingAuth, "token", tr.RefreshToken); rec.Code != http.StatusOK {
				t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
			}
			return tr.AccessToken
		}},
		{"access token revoked", "token revoked", func(t *testing.T, ts *testServer) string {
			tok := ts.login(t).AccessToken
			if rec := ts.post("/revoke", billingAuth, "token", tok); rec.Code != http.StatusOK {
				t.Fatalf("revoke: %d %s", rec.Code, rec.Body)
			}
			return tok
		}},
		{"user disabled", "token revoked", changeAlice(func(_ *testServer, u store.User) store.User { u.Disabled = true; return u })},
		{"password changed", "token revoked", changeAlice(func(ts *testServer, u store.User) store.User {
			u.NotBefore = ts.clock.Now().Add(time.Second)
			ts.clock.Step(2 * time.Second)
			return u
		})},
		{"user deleted", "token revoked", func(t *testing.T, ts *testServer) string {
			tok := ts.login(t).AccessToken
			if err := ts.store.(conformance.Store).DeleteUser(t.Context(), "alice"); err != nil {
				t.Fatal(err)
			}
			return tok
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, withTokenReview())
			tok := tc.tok(t, ts)
			st := ts.review(t, v1, tok)
			if st.Authenticated || st.Error != "authstack: "+tc.reason || !equalUser(st.User, authenticationv1.UserInfo{}) {
				t.Errorf("status %+v, want not authenticated: %q", st, tc.reason)
			}
			if logs := ts.logs.String(); !strings.Contains(logs, `"msg":"TokenReview refused"`) || strings.Contains(logs, tok) {
				t.Errorf("the refusal is not logged, or the log holds the token: %s", logs)
			}
		})
	}
}

// changeAlice returns a token of alice's made before change was stored.
func changeAlice(change func(*testServer, store.User) store.User) func(*testing.T, *testServer) string {
	return func(t *testing.T, ts *testServer) string {
		tok := ts.login(t).AccessToken
		u, err := ts.store.GetUser(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := ts.store.PutUser(t.Context(), change(ts, u)); err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

// With revocation state it cannot consult the webhook fails closed: 503,
// without Retry-After (see TestTokenReviewRoundTrip for why), never an
// authenticated answer.
func TestTokenReviewFailsClosedWithAStaleMirror(t *testing.T) {
	feed := &stallingFeed{Store: memory.New()}
	ts := newTestServer(t, withStore(feed), withTokenReview(), withConfig(func(c *testConfig) { c.MaxStaleness = 100 * time.Millisecond }))
	tok := ts.login(t).AccessToken
	if st := ts.review(t, v1, tok); !st.Authenticated {
		t.Fatalf("before the stall: %+v", st)
	}
	feed.stalled.Store(true)
	ts.waitStale()
	rec := ts.do(request{path: tokenreview.Path, body: reviewBody(t, v1, tok), ctype: "application/json"})
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "" ||
		decode[errorResponse](t, rec).Error != "temporarily_unavailable" || strings.Contains(rec.Body.String(), "authenticated") {
		t.Fatalf("stale mirror: %d %q %s, want 503 temporarily_unavailable without Retry-After", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if !strings.Contains(ts.logs.String(), `"level":"WARN","msg":"TokenReview refused"`) {
		t.Errorf("the outage is not logged at WARN: %s", ts.logs)
	}
}

// A request that is not a TokenReview gets a 4xx, never a 500.
func TestTokenReviewRefusesBadRequests(t *testing.T) {
	ts := newTestServer(t, withTokenReview())
	good := reviewBody(t, v1, "a.b.c")
	for _, tc := range []struct {
		name, method, ctype, body string
		status                    int
	}{
		{"GET", http.MethodGet, "-", "", http.StatusMethodNotAllowed},
		{"PUT", http.MethodPut, "application/json", good, http.StatusMethodNotAllowed},
		{"form body", http.MethodPost, "application/x-www-form-urlencoded", "token=a.b.c", http.StatusUnsupportedMediaType},
		{"no content type", http.MethodPost, "-", good, http.StatusUnsupportedMediaType},
		{"bad content type", http.MethodPost, "application/json; charset", good, http.StatusUnsupportedMediaType},
		{"YAML", http.MethodPost, "application/yaml", good, http.StatusUnsupportedMediaType},
		{"empty body", http.MethodPost, "application/json", "", http.StatusBadRequest},
		{"malformed JSON", http.MethodPost, "application/json", `{"kind":"TokenReview",`, http.StatusBadRequest},
		{"not an object", http.MethodPost, "application/json", `["TokenReview"]`, http.StatusBadRequest},
		{"null", http.MethodPost, "application/json", `null`, http.StatusBadRequest},
		{"two objects", http.MethodPost, "application/json", good + good, http.StatusBadRequest},
		{"trailing garbage", http.MethodPost, "application/json", good + "x", http.StatusBadRequest},
		{"unknown member", http.MethodPost, "application/json", strings.Replace(good, `"spec":{`, `"spec":{"binding":"x",`, 1), http.StatusBadRequest},
		// A repeated member would be read one way here and another way by
		// a parser that keeps the first; a member in another case is not
		// the member (kube-apiserver matches names case-sensitively).
		{"repeated spec", http.MethodPost, "application/json", strings.TrimSuffix(good, "}") + `,"spec":{"token":"x.y.z"}}`, http.StatusBadRequest},
		{"repeated token", http.MethodPost, "application/json", strings.Replace(good, `"spec":{`, `"spec":{"token":"x.y.z",`, 1), http.StatusBadRequest},
		{"member in another case", http.MethodPost, "application/json", strings.Replace(good, `"spec"`, `"Spec"`, 1), http.StatusBadRequest},
		{"token not a string", http.MethodPost, "application/json", `{"apiVersion":"` + v1 + `","kind":"TokenReview","spec":{"token":1}}`, http.StatusBadRequest},
		{"wrong apiVersion", http.MethodPost, "application/json", reviewBody(t, "authentication.k8s.io/v2", "a.b.c"), http.StatusBadRequest},
		{"no apiVersion", http.MethodPost, "application/json", reviewBody(t, "", "a.b.c"), http.StatusBadRequest},
		{"wrong kind", http.MethodPost, "application/json", strings.Replace(good, `"TokenReview"`, `"SubjectAccessReview"`, 1), http.StatusBadRequest},
		{"no token", http.MethodPost, "application/json", reviewBody(t, v1, ""), http.StatusBadRequest},
		{"huge body", http.MethodPost, "application/json", reviewBody(t, v1, strings.Repeat("a", tokenreview.MaxBodyBytes)), http.StatusRequestEntityTooLarge},
		{"huge padding", http.MethodPost, "application/json", good + strings.Repeat(" ", tokenreview.MaxBodyBytes), http.StatusRequestEntityTooLarge},
	} {
		rec := ts.do(request{method: tc.method, path: tokenreview.Path, ctype: tc.ctype, body: tc.body})
		if rec.Code != tc.status || decode[errorResponse](t, rec).Error != "invalid_request" {
			t.Errorf("%s: %d %s, want %d invalid_request", tc.name, rec.Code, rec.Body, tc.status)
		}
	}
	// A huge token in a body within the bound is a token: not ours.
	if st := ts.review(t, v1, strings.Repeat("a", tokenreview.MaxBodyBytes/2)); st.Authenticated || st.Error != "authstack: token too large" {
		t.Errorf("huge token: %+v", st)
	}
}

// The prefix is required and cannot put a name among Kubernetes' own; the
// endpoint is served only when audiences are configured.
func TestTokenReviewConfig(t *testing.T) {
	keys := newTestServer(t).keys
	for _, prefix := range []string{"", "system:", "System:authstack:", "a,b:", "a b:", "a\x00:"} {
		cfg := authserver.Config{Issuer: issuer, Store: memory.New(), Keys: keys,
			TokenReviewAudiences: []string{billingAudience}, TokenReviewPrefix: prefix}
		if _, err := authserver.New(cfg); err == nil {
			t.Errorf("prefix %q accepted", prefix)
		}
	}
	// The API server must take only tokens minted for it: not those of
	// the issuer's audience, the default of every client that lists none.
	for _, aud := range [][]string{{""}, {issuer}, {"kubernetes", issuer}} {
		cfg := authserver.Config{Issuer: issuer, Store: memory.New(), Keys: keys,
			TokenReviewAudiences: aud, TokenReviewPrefix: tokenreview.DefaultPrefix}
		if _, err := authserver.New(cfg); err == nil {
			t.Errorf("TokenReview audiences %q accepted", aud)
		}
	}
	cfg := authserver.Config{Issuer: issuer, Store: memory.New(), Keys: keys, DefaultAudience: []string{"https://apps.example.test"},
		TokenReviewAudiences: []string{"https://apps.example.test"}, TokenReviewPrefix: tokenreview.DefaultPrefix}
	if _, err := authserver.New(cfg); err == nil {
		t.Error("a default audience accepted as the TokenReview audience")
	}
	ts := newTestServer(t)
	if rec := ts.do(request{path: tokenreview.Path, body: reviewBody(t, v1, ts.login(t).AccessToken), ctype: "application/json"}); rec.Code != http.StatusNotFound {
		t.Errorf("served without audiences: %d", rec.Code)
	}
	ts = newTestServer(t, withTokenReview(), withConfig(func(c *testConfig) { c.TokenReviewPrefix = "oidc-corp/" }))
	if st := ts.review(t, v1, ts.login(t).AccessToken); st.User.Username != "oidc-corp/alice" || !slices.Equal(st.User.Groups, []string{"oidc-corp/readers", "oidc-corp/writers"}) {
		t.Errorf("another prefix: %+v", st.User)
	}
}

// The answer as kube-apiserver reads it: its webhook authenticator
// (k8s.io/apiserver/plugin/pkg/authenticator/token/webhook, not a
// dependency of authstack) posts through a client-go REST client built as
// below, with the codec of the version it is configured for, and decodes
// the answer into that version's type. A 503 is one request: without
// Retry-After neither client-go's retries nor the webhook's backoff
// (which retries only a 500, a timeout, a 429 or a Retry-After) run
// again, so an outage fails the API request at once instead of holding it.
func TestTokenReviewRoundTrip(t *testing.T) {
	feed := &stallingFeed{Store: memory.New()}
	ts := newTestServer(t, withStore(feed), withTokenReview(), withConfig(func(c *testConfig) { c.MaxStaleness = 100 * time.Millisecond }))
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		ts.handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tr := ts.login(t)
	ts.caughtUp()
	for _, gv := range []schema.GroupVersion{authenticationv1.SchemeGroupVersion, authenticationv1beta1.SchemeGroupVersion} {
		client := apiServerClient(t, srv.URL+tokenreview.Path, gv)
		got := postReview(t, client, gv, tr.AccessToken)
		if got.err != nil || !got.status.Authenticated || got.status.User.Username != "authstack:alice" {
			t.Errorf("%s: %+v", gv, got)
		}
		if got := postReview(t, client, gv, tamper(t, tr.AccessToken)); got.err != nil || got.status.Authenticated || got.status.Error != "authstack: invalid signature" {
			t.Errorf("%s, a forged token: %+v", gv, got)
		}
	}
	feed.stalled.Store(true)
	ts.waitStale()
	before := posts.Load()
	got := postReview(t, apiServerClient(t, srv.URL+tokenreview.Path, authenticationv1.SchemeGroupVersion), authenticationv1.SchemeGroupVersion, tr.AccessToken)
	if got.err == nil || got.code != http.StatusServiceUnavailable || got.status.Authenticated {
		t.Errorf("stale mirror: %+v, want an error with status 503", got)
	}
	if n := posts.Load() - before; n != 1 {
		t.Errorf("%d requests for one review with a stale mirror, want 1 (no client-side retry)", n)
	}
}

// apiServerClient is the REST client kube-apiserver's webhook builds
// (k8s.io/apiserver/pkg/util/webhook.NewGenericWebhook) for url.
func apiServerClient(t *testing.T, url string, gv schema.GroupVersion) *rest.RESTClient {
	t.Helper()
	cfg := &rest.Config{Host: url}
	cfg.ContentType = runtime.ContentTypeJSON
	cfg.NegotiatedSerializer = serializer.NegotiatedSerializerWrapper(runtime.SerializerInfo{Serializer: scheme.Codecs.LegacyCodec(gv)})
	c, err := rest.UnversionedRESTClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type reviewResult struct {
	status authenticationv1.TokenReviewStatus
	code   int
	err    error
}

// postReview posts a review of tok as the webhook's Create does.
func postReview(t *testing.T, c *rest.RESTClient, gv schema.GroupVersion, tok string) reviewResult {
	t.Helper()
	var res reviewResult
	spec := authenticationv1.TokenReviewSpec{Token: tok, Audiences: []string{kubeAPIAudience}}
	if gv == authenticationv1.SchemeGroupVersion {
		out := &authenticationv1.TokenReview{}
		r := c.Post().Body(&authenticationv1.TokenReview{Spec: spec}).Do(t.Context())
		r.StatusCode(&res.code)
		res.err = r.Into(out)
		res.status = out.Status
		return res
	}
	out := &authenticationv1beta1.TokenReview{}
	r := c.Post().Body(&authenticationv1beta1.TokenReview{Spec: authenticationv1beta1.TokenReviewSpec{Token: spec.Token, Audiences: spec.Audiences}}).Do(t.Context())
	r.StatusCode(&res.code)
	res.err = r.Into(out)
	res.status = authenticationv1.TokenReviewStatus{
		Authenticated: out.Status.Authenticated, Error: out.Status.Error,
		User: authenticationv1.UserInfo{Username: out.Status.User.Username, Groups: out.Status.User.Groups},
	}
	return res
}
