package conformance

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/authstack/authstack/authserver/store"
)

// newToken returns an unused token issued at now that expires an hour later.
func newToken(hash, family string, now time.Time) store.RefreshToken {
	return store.RefreshToken{
		Hash:      hash,
		Family:    family,
		ClientID:  "web",
		Username:  "alice",
		Scopes:    []string{"read", "offline_access"},
		IssuedAt:  now,
		ExpiresAt: now.Add(time.Hour),
	}
}

func normToken(r store.RefreshToken) store.RefreshToken {
	r.Scopes = nilIfEmpty(r.Scopes)
	r.IssuedAt = utc(r.IssuedAt)
	r.ExpiresAt = utc(r.ExpiresAt)
	return r
}

func checkToken(t *testing.T, got, want store.RefreshToken) {
	t.Helper()
	if g, w := normToken(got), normToken(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("refresh token mismatch:\n got %+v\nwant %+v", g, w)
	}
}

func create(t *testing.T, s store.Store, tok store.RefreshToken) {
	t.Helper()
	must(t, "CreateRefreshToken "+tok.Hash, s.CreateRefreshToken(t.Context(), tok))
}

// useOK uses the token and checks that it comes back as created.
func useOK(t *testing.T, s store.Store, tok store.RefreshToken, now time.Time) {
	t.Helper()
	got, err := s.UseRefreshToken(t.Context(), tok.Hash, now)
	must(t, "UseRefreshToken "+tok.Hash, err)
	checkToken(t, got, tok)
}

func useErr(t *testing.T, s store.Store, hash string, now time.Time, target error) {
	t.Helper()
	_, err := s.UseRefreshToken(t.Context(), hash, now)
	wantErr(t, "UseRefreshToken "+hash, err, target)
}

func testRefreshCreateUse(t *testing.T, s store.Store) {
	now := time.Now()
	tok := newToken("h1", "f1", now)
	create(t, s, tok)
	dup := newToken("h1", "other", now)
	wantErr(t, "CreateRefreshToken duplicate", s.CreateRefreshToken(t.Context(), dup), store.ErrAlreadyExists)

	useOK(t, s, tok, now.Add(time.Minute))
	useErr(t, s, "h1", now.Add(2*time.Minute), store.ErrTokenReused)
	// The duplicate must not have replaced the original.
	wantErr(t, "CreateRefreshToken used", s.CreateRefreshToken(t.Context(), tok), store.ErrAlreadyExists)
}

func testRefreshUnknown(t *testing.T, s store.Store) {
	useErr(t, s, "missing", time.Now(), store.ErrNotFound)
}

func testRefreshReuseRevokesFamily(t *testing.T, s store.Store) {
	now := time.Now()
	t1, t2, t3 := newToken("h1", "f", now), newToken("h2", "f", now), newToken("h3", "f", now)
	other := newToken("h4", "g", now)
	for _, tok := range []store.RefreshToken{t1, t2, t3, other} {
		create(t, s, tok)
	}

	useOK(t, s, t1, now)
	reused, err := s.UseRefreshToken(t.Context(), "h1", now)
	wantErr(t, "UseRefreshToken used", err, store.ErrTokenReused)
	if reused.Family != "f" || reused.Hash != "h1" {
		t.Fatalf("reuse returned %+v; want the token, to revoke what its family holds", reused)
	}
	useErr(t, s, "h2", now, store.ErrNotFound)
	useErr(t, s, "h3", now, store.ErrNotFound)
	useErr(t, s, "h1", now, store.ErrNotFound) // revoked wins over used

	// A rotation racing the revocation must not resurrect the family.
	create(t, s, newToken("h5", "f", now))
	useErr(t, s, "h5", now, store.ErrNotFound)

	useOK(t, s, other, now)
}

func testRefreshExpiry(t *testing.T, s store.Store) {
	now := time.Now()
	tok, sibling := newToken("h1", "f", now), newToken("h2", "f", now)
	create(t, s, tok)
	create(t, s, sibling)

	useErr(t, s, "h1", tok.ExpiresAt, store.ErrNotFound)
	useErr(t, s, "h1", tok.ExpiresAt.Add(time.Hour), store.ErrNotFound)
	// Failed attempts on an expired token must not consume it.
	useOK(t, s, tok, tok.ExpiresAt.Add(-time.Nanosecond))

	// Presenting a used token after its expiry is "expired", not reuse:
	// the family stays alive.
	useErr(t, s, "h1", tok.ExpiresAt, store.ErrNotFound)
	useOK(t, s, sibling, now)
}

func testRefreshRevokeFamily(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := time.Now()
	t1, t2, other := newToken("h1", "f", now), newToken("h2", "f", now), newToken("h3", "g", now)
	for _, tok := range []store.RefreshToken{t1, t2, other} {
		create(t, s, tok)
	}
	useOK(t, s, t1, now)

	must(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(ctx, "f"))
	must(t, "RevokeRefreshFamily again", s.RevokeRefreshFamily(ctx, "f"))
	must(t, "RevokeRefreshFamily unknown", s.RevokeRefreshFamily(ctx, "unknown"))

	useErr(t, s, "h1", now, store.ErrNotFound)
	useErr(t, s, "h2", now, store.ErrNotFound)
	create(t, s, newToken("h4", "f", now))
	useErr(t, s, "h4", now, store.ErrNotFound)
	useOK(t, s, other, now)
}

func testRefreshCopies(t *testing.T, s store.Store) {
	now := time.Now()
	tok := newToken("h1", "f", now)
	want := newToken("h1", "f", now)
	create(t, s, tok)
	tok.Scopes[0] = "mutated"
	useOK(t, s, want, now)
}

// testRefreshConcurrentUse races 20 uses of one token: exactly one wins,
// the first loser sees the reuse (and revokes the family), the rest find
// the family revoked.
func testRefreshConcurrentUse(t *testing.T, s store.Store) {
	const n = 20
	now := time.Now()
	create(t, s, newToken("h1", "f", now))

	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = s.UseRefreshToken(t.Context(), "h1", now)
		})
	}
	close(start)
	wg.Wait()

	var ok, reused, notFound int
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrTokenReused):
			reused++
		case errors.Is(err, store.ErrNotFound):
			notFound++
		default:
			t.Errorf("UseRefreshToken: unexpected error %v", err)
		}
	}
	if ok != 1 || reused != 1 || notFound != n-2 {
		t.Fatalf("%d concurrent uses: %d ok, %d reused, %d not found; want 1, 1, %d", n, ok, reused, notFound, n-2)
	}
}

func testRefreshGet(t *testing.T, s store.Store) {
	ctx, now := t.Context(), time.Now()
	tok := newToken("h1", "f", now)
	tok.AuthTime, tok.Epoch = now.Add(-time.Minute).Truncate(time.Second), "e1"
	tok.Credential = store.CredentialMark(now.Add(-time.Hour))
	create(t, s, tok)
	_, err := s.GetRefreshToken(ctx, "missing", now)
	wantErr(t, "GetRefreshToken missing", err, store.ErrNotFound)
	got, err := s.GetRefreshToken(ctx, "h1", now)
	must(t, "GetRefreshToken", err)
	if got.Used || got.Family != "f" || got.Epoch != "e1" || !got.AuthTime.Equal(tok.AuthTime) || got.Credential != tok.Credential {
		t.Fatalf("GetRefreshToken = %+v", got)
	}
	// Reading does not use it.
	if _, err := s.UseRefreshToken(ctx, "h1", now); err != nil {
		t.Fatalf("UseRefreshToken after Get: %v", err)
	}
	got, err = s.GetRefreshToken(ctx, "h1", now)
	must(t, "GetRefreshToken used", err)
	if !got.Used {
		t.Fatal("GetRefreshToken does not report a used token as used")
	}
	_, err = s.GetRefreshToken(ctx, "h1", tok.ExpiresAt)
	wantErr(t, "GetRefreshToken expired", err, store.ErrNotFound)
	if got.Revoked {
		t.Fatal("GetRefreshToken reports a live family as revoked")
	}
	must(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(ctx, "f"))
	got, err = s.GetRefreshToken(ctx, "h1", now)
	must(t, "GetRefreshToken revoked", err)
	if !got.Revoked || got.Family != "f" {
		t.Fatalf("GetRefreshToken of a revoked family = %+v, want Revoked", got)
	}
	// Using a token of a revoked family: not found, with the token, so the
	// caller can revoke the family's access tokens again.
	create(t, s, newToken("h9", "f", now))
	got, err = s.UseRefreshToken(ctx, "h9", now)
	wantErr(t, "UseRefreshToken revoked", err, store.ErrNotFound)
	if !got.Revoked || got.Family != "f" {
		t.Fatalf("UseRefreshToken of a revoked family = %+v", got)
	}
}
