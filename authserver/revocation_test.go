package authserver_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authstack/authstack/authserver/session"
	"github.com/authstack/authstack/internal/store"
)

var billingAuth = map[string]string{"Authorization": basic("billing", billingSecret)}

// login gets alice's tokens through the confidential billing client.
func (ts *testServer) login(t *testing.T, kv ...string) tokenResponse {
	t.Helper()
	body := append([]string{"grant_type", "password", "username", "alice", "password", alicePassword}, kv...)
	rec := ts.do(request{body: form(body...), headers: billingAuth})
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	tr := decode[tokenResponse](t, rec)
	if tr.RefreshToken == "" {
		t.Fatal("no refresh token for a client allowed the refresh_token grant")
	}
	return tr
}

func (ts *testServer) refresh(rt string, kv ...string) *httptest.ResponseRecorder {
	return ts.do(request{body: form(append([]string{"grant_type", "refresh_token", "refresh_token", rt}, kv...)...), headers: billingAuth})
}

func (ts *testServer) post(path string, auth map[string]string, kv ...string) *httptest.ResponseRecorder {
	return ts.do(request{path: path, body: form(kv...), headers: auth})
}

// introspect returns the introspection response for tok, asked by billing.
func (ts *testServer) introspect(t *testing.T, tok string) map[string]any {
	t.Helper()
	ts.caughtUp()
	rec := ts.post("/introspect", billingAuth, "token", tok)
	if rec.Code != http.StatusOK {
		t.Fatalf("introspect: %d %s", rec.Code, rec.Body)
	}
	return decode[map[string]any](t, rec)
}

func active(m map[string]any) bool { return m["active"] == true }

func TestRefreshRotatesAndReuseRevokesTheSession(t *testing.T) {
	ts := newTestServer(t)
	first := ts.login(t)
	rec := ts.refresh(first.RefreshToken)
	if rec.Code != http.StatusOK {
		t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
	}
	second := decode[tokenResponse](t, rec)
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	if second.Scope != "read write" {
		t.Fatalf("scope %q", second.Scope)
	}
	for _, tok := range []string{first.AccessToken, second.AccessToken, second.RefreshToken} {
		if !active(ts.introspect(t, tok)) {
			t.Fatalf("a token of the live session is inactive")
		}
	}
	// The first refresh token again: a stolen copy, or a replay.
	rec = ts.refresh(first.RefreshToken)
	if rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_grant" {
		t.Fatalf("reuse: %d %s", rec.Code, rec.Body)
	}
	// The whole session is gone: the newer refresh token and every access
	// token issued in the session.
	if rec := ts.refresh(second.RefreshToken); rec.Code != http.StatusBadRequest {
		t.Fatalf("refresh token rotated from a reused one: %d", rec.Code)
	}
	for _, tok := range []string{first.AccessToken, second.AccessToken, second.RefreshToken} {
		if got := ts.introspect(t, tok); active(got) || len(got) != 1 {
			t.Fatalf("a token of the revoked session: %v", got)
		}
	}
	// Another session of the same user is untouched.
	if !active(ts.introspect(t, ts.login(t).AccessToken)) {
		t.Fatal("another session died with the reused one")
	}
}

func TestRefreshRules(t *testing.T) {
	t.Run("narrower scope, never wider", func(t *testing.T) {
		ts := newTestServer(t)
		rt := ts.login(t, "scope", "read").RefreshToken
		rec := ts.refresh(rt, "scope", "read write")
		if rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_scope" {
			t.Fatalf("wider scope: %d %s", rec.Code, rec.Body)
		}
		rt = ts.login(t).RefreshToken
		rec = ts.refresh(rt, "scope", "read")
		if rec.Code != http.StatusOK || decode[tokenResponse](t, rec).Scope != "read" {
			t.Fatalf("narrower scope: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("a scope taken from the user since", func(t *testing.T) {
		ts := newTestServer(t)
		rt := ts.login(t).RefreshToken
		u, _ := ts.store.GetUser(t.Context(), "alice")
		u.Scopes = []string{"read"}
		if err := ts.store.PutUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		rec := ts.refresh(rt)
		if rec.Code != http.StatusOK || decode[tokenResponse](t, rec).Scope != "read" {
			t.Fatalf("refresh after losing a scope: %d %s", rec.Code, rec.Body)
		}
	})
	for name, change := range map[string]func(u *store.User, now time.Time){
		"disabled":           func(u *store.User, _ time.Time) { u.Disabled = true },
		"password changed":   func(u *store.User, now time.Time) { u.NotBefore = now },
		"revokeTokensBefore": func(u *store.User, now time.Time) { u.NotBefore = now.Add(time.Second) },
	} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t)
			rt := ts.login(t).RefreshToken
			u, _ := ts.store.GetUser(t.Context(), "alice")
			change(&u, ts.clock())
			if err := ts.store.PutUser(t.Context(), u); err != nil {
				t.Fatal(err)
			}
			ts.advance(5 * time.Second)
			rec := ts.refresh(rt)
			if rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_grant" {
				t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
			}
		})
	}
	t.Run("user deleted", func(t *testing.T) {
		ts := newTestServer(t)
		rt := ts.login(t).RefreshToken
		if err := ts.store.DeleteUser(t.Context(), "alice"); err != nil {
			t.Fatal(err)
		}
		if rec := ts.refresh(rt); rec.Code != http.StatusBadRequest {
			t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		ts := newTestServer(t)
		rt := ts.login(t).RefreshToken
		ts.advance(25 * time.Hour)
		if rec := ts.refresh(rt); rec.Code != http.StatusBadRequest {
			t.Fatalf("refresh: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("bound to its client", func(t *testing.T) {
		ts := newTestServer(t)
		other := store.Client{ID: "reports", SecretHash: store.HashClientSecret(billingSecret + "-reports"),
			GrantTypes: []string{"password", "refresh_token"}}
		if err := ts.store.PutClient(t.Context(), other); err != nil {
			t.Fatal(err)
		}
		tr := ts.login(t)
		rec := ts.do(request{body: form("grant_type", "refresh_token", "refresh_token", tr.RefreshToken),
			headers: map[string]string{"Authorization": basic("reports", billingSecret+"-reports")}})
		if rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_grant" {
			t.Fatalf("another client's refresh token: %d %s", rec.Code, rec.Body)
		}
		// A leaked refresh token ends its session.
		if rec := ts.refresh(tr.RefreshToken); rec.Code != http.StatusBadRequest {
			t.Fatalf("the owner after a leak: %d", rec.Code)
		}
		if active(ts.introspect(t, tr.AccessToken)) {
			t.Fatal("the session's access token survived the leak")
		}
	})
	t.Run("bad input", func(t *testing.T) {
		ts := newTestServer(t)
		for body, want := range map[string]string{
			form("grant_type", "refresh_token"):                                           "invalid_request",
			form("grant_type", "refresh_token", "refresh_token", "short"):                 "invalid_grant",
			form("grant_type", "refresh_token", "refresh_token", "a b c d e f g h i j"):   "invalid_grant",
			form("grant_type", "refresh_token", "refresh_token", strings.Repeat("A", 43)): "invalid_grant",
		} {
			rec := ts.do(request{body: body, headers: billingAuth})
			if rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != want {
				t.Errorf("%s: %d %s", body, rec.Code, rec.Body)
			}
		}
	})
}

// A refresh token is not an access token.
func TestRefreshTokenAsBearerIsRefused(t *testing.T) {
	ts := newTestServer(t)
	rec := ts.token("grant_type", "password", "username", "alice", "password", alicePassword)
	rt := decode[tokenResponse](t, rec).RefreshToken
	if rt == "" {
		t.Fatal("the default client gets no refresh token")
	}
	for _, path := range []string{"/userinfo", "/verify"} {
		req := request{method: http.MethodGet, path: path, headers: map[string]string{"Authorization": "Bearer " + rt}}
		if got := ts.do(req); got.Code != http.StatusUnauthorized || !strings.Contains(got.Header().Get("WWW-Authenticate"), "invalid_token") {
			t.Errorf("%s with a refresh token: %d %q", path, got.Code, got.Header().Get("WWW-Authenticate"))
		}
	}
}

func TestRevokeEndpoint(t *testing.T) {
	ts := newTestServer(t)
	tr := ts.login(t)
	// RFC 7009 §2.1: token is REQUIRED.
	if rec := ts.post("/revoke", billingAuth); rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "invalid_request" {
		t.Fatalf("no token: %d %s", rec.Code, rec.Body)
	}
	// §2.2: unknown, malformed and already revoked tokens get 200.
	for _, tok := range []string{"nonsense", "a.b.c", strings.Repeat("x", 43)} {
		if rec := ts.post("/revoke", billingAuth, "token", tok); rec.Code != http.StatusOK {
			t.Fatalf("revoke %q: %d %s", tok, rec.Code, rec.Body)
		}
	}
	// Only the client the token was issued to may revoke it.
	public := ts.mustToken()
	if rec := ts.post("/revoke", billingAuth, "token", public); rec.Code != http.StatusBadRequest || decode[errorResponse](t, rec).Error != "unauthorized_client" {
		t.Fatalf("another client's token: %d %s", rec.Code, rec.Body)
	}
	if rec := ts.post("/revoke", map[string]string{"Authorization": basic("billing", "wrong")}, "token", tr.AccessToken); rec.Code != http.StatusUnauthorized {
		t.Fatalf("wrong client secret: %d", rec.Code)
	}
	// An access token, with a wrong hint: the hint changes nothing.
	if rec := ts.post("/revoke", billingAuth, "token", tr.AccessToken, "token_type_hint", "refresh_token"); rec.Code != http.StatusOK {
		t.Fatalf("revoke access token: %d %s", rec.Code, rec.Body)
	}
	if active(ts.introspect(t, tr.AccessToken)) {
		t.Fatal("revoked access token is active")
	}
	if rec := ts.post("/revoke", billingAuth, "token", tr.AccessToken); rec.Code != http.StatusOK {
		t.Fatalf("revoke again: %d", rec.Code)
	}
	// Revoking an access token ends its session (RFC 7009 §2.1 lets the
	// server revoke the grant): its refresh token goes too.
	if rec := ts.refresh(tr.RefreshToken); rec.Code != http.StatusBadRequest {
		t.Fatalf("refresh after revoking an access token: %d", rec.Code)
	}
	next := ts.login(t)
	// A refresh token: the whole session, access tokens included.
	if rec := ts.post("/revoke", billingAuth, "token", next.RefreshToken, "token_type_hint", "refresh_token"); rec.Code != http.StatusOK {
		t.Fatalf("revoke refresh token: %d %s", rec.Code, rec.Body)
	}
	if rec := ts.refresh(next.RefreshToken); rec.Code != http.StatusBadRequest {
		t.Fatalf("revoked refresh token: %d", rec.Code)
	}
	if active(ts.introspect(t, next.AccessToken)) {
		t.Fatal("access token of a revoked session is active")
	}
	// Public clients revoke their own tokens (client_id, no secret).
	pub := decode[tokenResponse](t, ts.token("grant_type", "password", "username", "alice", "password", alicePassword))
	if rec := ts.post("/revoke", nil, "token", pub.AccessToken, "client_id", "default"); rec.Code != http.StatusOK {
		t.Fatalf("public client revokes its token: %d %s", rec.Code, rec.Body)
	}
	ts.caughtUp()
	if rec := ts.userinfo("Bearer " + pub.AccessToken); rec.Code != http.StatusUnauthorized {
		t.Fatalf("userinfo with a revoked token: %d", rec.Code)
	}
	if rec := ts.do(request{method: http.MethodGet, path: "/revoke"}); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /revoke: %d", rec.Code)
	}
}

func TestIntrospectEndpoint(t *testing.T) {
	ts := newTestServer(t)
	tr := ts.login(t)
	// Confidential clients only.
	if rec := ts.post("/introspect", nil, "token", tr.AccessToken, "client_id", "default"); rec.Code != http.StatusUnauthorized {
		t.Fatalf("public client: %d %s", rec.Code, rec.Body)
	}
	if rec := ts.post("/introspect", billingAuth); rec.Code != http.StatusBadRequest {
		t.Fatalf("no token: %d", rec.Code)
	}
	got := ts.introspect(t, tr.AccessToken)
	for k, want := range map[string]any{
		"active": true, "scope": "read write", "client_id": "billing", "username": "alice", "sub": "alice",
		"iss": issuer, "token_type": "Bearer",
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	for _, k := range []string{"exp", "iat", "jti", "aud"} {
		if got[k] == nil {
			t.Errorf("%s missing", k)
		}
	}
	// Inactive is exactly {"active":false}: nothing about why.
	for _, tok := range []string{"garbage", tamper(t, tr.AccessToken), strings.Repeat("A", 43)} {
		rec := ts.post("/introspect", billingAuth, "token", tok)
		if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != `{"active":false}` {
			t.Errorf("%.20s: %d %s", tok, rec.Code, rec.Body)
		}
	}
	ts.advance(10 * time.Minute) // billing's tokens live 5 minutes
	if active(ts.introspect(t, tr.AccessToken)) {
		t.Error("expired token is active")
	}
	// A refresh token is described to its own client only.
	tr = ts.login(t)
	if got := ts.introspect(t, tr.RefreshToken); !active(got) || got["client_id"] != "billing" || got["username"] != "alice" {
		t.Fatalf("refresh token to its client: %v", got)
	}
	other := store.Client{ID: "reports", SecretHash: store.HashClientSecret(billingSecret + "-reports")}
	if err := ts.store.PutClient(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	rec := ts.post("/introspect", map[string]string{"Authorization": basic("reports", billingSecret+"-reports")}, "token", tr.RefreshToken)
	if strings.TrimSpace(rec.Body.String()) != `{"active":false}` {
		t.Fatalf("refresh token to another client: %s", rec.Body)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Error("introspection response may be cached")
	}
}

func TestVerifyEndpoint(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken() // alice through the default client: aud is the issuer
	verify := func(q, auth string) *httptest.ResponseRecorder {
		h := map[string]string{}
		if auth != "" {
			h["Authorization"] = auth
		}
		ts.caughtUp()
		return ts.do(request{method: http.MethodGet, path: "/verify" + q, headers: h})
	}
	rec := verify("", "Bearer "+tok)
	if rec.Code != http.StatusOK {
		t.Fatalf("verify: %d %s", rec.Code, rec.Body)
	}
	for h, want := range map[string]string{
		"X-Auth-Request-User": "alice", "X-Auth-Request-Groups": "readers,writers",
		"X-Auth-Request-Scopes": "read write", "X-Auth-Request-Client-Id": "default",
	} {
		if got := rec.Header().Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if rec := verify("", ""); rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != `Bearer realm="authstack"` {
		t.Errorf("no token: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if rec := verify("", "Bearer x"); rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("bad token: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if rec := verify("?scope=read", "Bearer "+tok); rec.Code != http.StatusOK {
		t.Errorf("scope held: %d", rec.Code)
	}
	rec = verify("?scope=read%20admin", "Bearer "+tok)
	if ch := rec.Header().Get("WWW-Authenticate"); rec.Code != http.StatusForbidden || !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="read admin"`) {
		t.Errorf("scope missing: %d %q", rec.Code, ch)
	}
	// Audiences: billing's tokens are for billing, not for the default set.
	billing := ts.login(t).AccessToken
	if rec := verify("", "Bearer "+billing); rec.Code != http.StatusUnauthorized {
		t.Errorf("token for another audience: %d", rec.Code)
	}
	if rec := verify("?audience="+billingAudience, "Bearer "+billing); rec.Code != http.StatusOK {
		t.Errorf("token for the named audience: %d", rec.Code)
	}
	// Envoy's ext_authz asks below the path, with the client's own path and
	// query: answered the same, but the client's query sets nothing.
	if rec := verify("/invoices?page=2", "Bearer "+tok); rec.Code != http.StatusOK || rec.Header().Get("X-Auth-Request-User") != "alice" {
		t.Errorf("subtree: %d", rec.Code)
	}
	if rec := verify("/x?audience="+url.QueryEscape(billingAudience), "Bearer "+billing); rec.Code != http.StatusUnauthorized {
		t.Errorf("a client's audience= below the path was honoured: %d", rec.Code)
	}
	if rec := verify("/x?scope=admin", "Bearer "+tok); rec.Code != http.StatusOK {
		t.Errorf("a client's scope= below the path was honoured: %d", rec.Code)
	}
	if rec := ts.post("/revoke", nil, "token", tok, "client_id", "default"); rec.Code != http.StatusOK {
		t.Fatal(rec.Code)
	}
	if rec := verify("", "Bearer "+tok); rec.Code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", rec.Code)
	}
}

// Refreshing and revoking a session at the same moment leave no token of
// it alive, whichever wins.
func TestConcurrentRefreshAndRevokeLeaveNothing(t *testing.T) {
	ts := newTestServer(t)
	for range 20 {
		tr := ts.login(t)
		var wg sync.WaitGroup
		var refreshed *httptest.ResponseRecorder
		wg.Add(2)
		go func() { defer wg.Done(); refreshed = ts.refresh(tr.RefreshToken) }()
		go func() {
			defer wg.Done()
			if rec := ts.post("/revoke", billingAuth, "token", tr.RefreshToken); rec.Code != http.StatusOK {
				t.Errorf("revoke: %d", rec.Code)
			}
		}()
		wg.Wait()
		tokens := []string{tr.AccessToken, tr.RefreshToken}
		if refreshed.Code == http.StatusOK {
			next := decode[tokenResponse](t, refreshed)
			tokens = append(tokens, next.AccessToken, next.RefreshToken)
		}
		for _, tok := range tokens {
			if active(ts.introspect(t, tok)) {
				t.Fatalf("a token survived the revocation of its session (refresh answered %d)", refreshed.Code)
			}
		}
	}
}

func TestDiscoveryListsRevocationAndIntrospection(t *testing.T) {
	ts := newTestServer(t)
	m := decode[map[string]any](t, ts.do(request{method: http.MethodGet, path: "/.well-known/oauth-authorization-server"}))
	if m["revocation_endpoint"] != issuer+"/revoke" || m["introspection_endpoint"] != issuer+"/introspect" {
		t.Fatalf("metadata %v", m)
	}
	if gts := anyStrings(m["grant_types_supported"]); len(gts) != 2 || gts[1] != "refresh_token" {
		t.Fatalf("grant_types_supported %v", gts)
	}
}

// A refused refresh that was not an attack (a wider scope than granted)
// does not spend the token: the client's corrected retry works.
func TestRefreshRetryAfterARefusal(t *testing.T) {
	ts := newTestServer(t)
	rt := ts.login(t, "scope", "read").RefreshToken
	if rec := ts.refresh(rt, "scope", "read write"); rec.Code != http.StatusBadRequest {
		t.Fatalf("wider scope: %d", rec.Code)
	}
	if rec := ts.refresh(rt, "scope", "read"); rec.Code != http.StatusOK {
		t.Fatalf("the retry with the granted scope: %d %s", rec.Code, rec.Body)
	}
}

// A session whose revocation stopped half-way (its refresh tokens revoked,
// its sid not: the second write failed) is finished by revoking again:
// /revoke does not answer "unknown token" and leave the access tokens
// alive, and neither does a refresh.
func TestRevokeFinishesAHalfRevokedSession(t *testing.T) {
	ts := newTestServer(t)
	for _, finish := range []string{"revoke", "refresh"} {
		tr := ts.login(t)
		if _, err := ts.store.RevokeSession(t.Context(), sessionOf(t, tr.RefreshToken)); err != nil {
			t.Fatal(err)
		}
		if !active(ts.introspect(t, tr.AccessToken)) {
			t.Fatal("the access token died with the refresh tokens alone")
		}
		switch finish {
		case "revoke":
			if rec := ts.post("/revoke", billingAuth, "token", tr.RefreshToken); rec.Code != http.StatusOK {
				t.Fatalf("revoke: %d", rec.Code)
			}
		case "refresh":
			if rec := ts.refresh(tr.RefreshToken); rec.Code != http.StatusBadRequest {
				t.Fatalf("refresh of a revoked session: %d", rec.Code)
			}
		}
		if active(ts.introspect(t, tr.AccessToken)) {
			t.Fatalf("%s of a half-revoked session left its access token alive", finish)
		}
		if active(ts.introspect(t, tr.RefreshToken)) {
			t.Fatal("a refresh token of a revoked session is active")
		}
	}
}

// No access token outlives the revocation of its session: lifetimes are
// capped at the time a revoked session is remembered.
func TestAccessTokenLifetimeIsCapped(t *testing.T) {
	ts := newTestServer(t)
	c, _ := ts.store.GetClient(t.Context(), "billing")
	c.AccessTokenTTL = 72 * time.Hour
	if err := ts.store.PutClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	rec := ts.do(request{body: form("grant_type", "password", "username", "alice", "password", alicePassword), headers: billingAuth})
	if got := decode[tokenResponse](t, rec).ExpiresIn; got != int64((24 * time.Hour).Seconds()) {
		t.Fatalf("expires_in %d, want the 24 h cap", got)
	}
}

// sessionOf is the store's key of a refresh token's session.
func sessionOf(t *testing.T, raw string) string {
	t.Helper()
	tok, ok := session.Parse(raw)
	if !ok {
		t.Fatalf("not a refresh token: %q", raw)
	}
	return tok.ID()
}

// The mirror's figures are on the metrics listener.
func TestMirrorMetrics(t *testing.T) {
	ts := newTestServer(t)
	tok := ts.mustToken()
	if rec := ts.post("/revoke", nil, "token", tok, "client_id", "default"); rec.Code != http.StatusOK {
		t.Fatal(rec.Code)
	}
	ts.caughtUp()
	for name, want := range map[string]float64{
		// Revoking an access token revokes its session.
		"authstack_revocation_mirror_revoked_tokens":   0,
		"authstack_revocation_mirror_revoked_sessions": 1,
		"authstack_revocation_mirror_users":            3,
		"authstack_revocation_mirror_loads_total":      1,
		"authstack_revocation_mirror_rollbacks_total":  0,
	} {
		if got := ts.metric(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := ts.metric(t, "authstack_revocation_mirror_staleness_seconds"); got <= 0 || got > 2 {
		t.Errorf("staleness %v s", got)
	}
}
