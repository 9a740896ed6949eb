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

package resourceserver_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
)

// jwksServer serves a JWK Set (and metadata naming it) that a test can
// change, fail or hold.
type jwksServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	doc      []byte
	status   int
	cacheCtl string
	issuer   string // the metadata's issuer; the server's URL when empty
	jwksURI  string // the metadata's jwks_uri; the server's when empty
	hang     chan struct{}
	fetches  atomic.Int64
}

func newJWKSServer(t *testing.T, keys ...*signer.Key) *jwksServer {
	t.Helper()
	js := &jwksServer{status: http.StatusOK}
	js.setKeys(t, keys...)
	js.srv = httptest.NewTLSServer(http.HandlerFunc(js.serve))
	t.Cleanup(js.srv.Close)
	return js
}

func (js *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	js.mu.Lock()
	doc, status, cc, issuer, jwksURI, hang := js.doc, js.status, js.cacheCtl, js.issuer, js.jwksURI, js.hang
	js.mu.Unlock()
	switch r.URL.Path {
	case "/.well-known/oauth-authorization-server":
		if issuer == "" {
			issuer = js.srv.URL
		}
		if jwksURI == "" {
			jwksURI = js.srv.URL + "/jwks"
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"` + issuer + `","jwks_uri":"` + jwksURI + `"}`))
	case "/jwks":
		js.fetches.Add(1)
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
				// No response at all: an empty 200 written as the client's
				// deadline passes could reach it first.
				panic(http.ErrAbortHandler)
			}
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.WriteHeader(status)
		_, _ = w.Write(doc)
	case "/redirect":
		http.Redirect(w, r, strings.Replace(js.srv.URL, "https:", "http:", 1)+"/jwks", http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

func (js *jwksServer) setKeys(t *testing.T, keys ...*signer.Key) {
	t.Helper()
	if len(keys) == 0 {
		return
	}
	ks, err := signer.NewKeySet(nil, keys...)
	must(t, err)
	js.set(func(js *jwksServer) { js.doc = ks.JWKS() })
}

func (js *jwksServer) set(f func(*jwksServer)) {
	js.mu.Lock()
	defer js.mu.Unlock()
	f(js)
}

// remote returns a RemoteKeys for js, discovering from its issuer URL.
func (js *jwksServer) remote(t *testing.T, mutate ...func(*resourceserver.RemoteKeysOptions)) *resourceserver.RemoteKeys {
	t.Helper()
	o := resourceserver.RemoteKeysOptions{Issuer: js.srv.URL, HTTPClient: js.srv.Client(), Logger: discard}
	for _, f := range mutate {
		f(&o)
	}
	rk, err := resourceserver.NewRemoteKeys(o)
	must(t, err)
	t.Cleanup(rk.Close)
	return rk
}

func waitReady(t *testing.T, rk *resourceserver.RemoteKeys) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must(t, rk.WaitReady(ctx))
}

func hasKID(rk *resourceserver.RemoteKeys, kid string) bool {
	ks := rk.Current()
	if ks == nil {
		return false
	}
	_, ok := ks.Lookup(kid)
	return ok
}

func TestRemoteKeysDiscovery(t *testing.T) {
	k := authtest.Key(t, signer.AlgES256)
	js := newJWKSServer(t, k)
	rk := js.remote(t)
	waitReady(t, rk)
	if !rk.Ready() || !hasKID(rk, k.ID) || rk.Current().Active != nil {
		t.Fatalf("key set %v, want the verify-only key %s", rk.Current(), k.ID)
	}
	if ks := rk.Current(); ks.Keys[0].CanSign() {
		t.Error("a remote key can sign")
	}
}

func TestRemoteKeysExplicitURL(t *testing.T) {
	k := authtest.Key(t, signer.AlgES256)
	js := newJWKSServer(t, k)
	rk := js.remote(t, func(o *resourceserver.RemoteKeysOptions) { o.Issuer = ""; o.JWKSURL = js.srv.URL + "/jwks" })
	waitReady(t, rk)
	if !hasKID(rk, k.ID) {
		t.Fatal("key not loaded")
	}
}

// Keys that never load: the set stays nil and the loop keeps trying.
func TestRemoteKeysRefusesBadSources(t *testing.T) {
	k := authtest.Key(t, signer.AlgES256)
	for name, tc := range map[string]struct {
		setup  func(*jwksServer)
		opts   func(*jwksServer, *resourceserver.RemoteKeysOptions)
		errHas string
	}{
		"metadata issuer differs": {
			setup: func(js *jwksServer) { js.issuer = "https://evil.example.test" }, errHas: "RFC 8414",
		},
		"metadata issuer with trailing slash": {
			setup: func(js *jwksServer) { js.issuer = js.srv.URL + "/" }, errHas: "RFC 8414",
		},
		"http jwks_uri": {
			setup: func(js *jwksServer) { js.jwksURI = strings.Replace(js.srv.URL, "https:", "http:", 1) + "/jwks" }, errHas: "https",
		},
		"redirect to http": {
			opts: func(js *jwksServer, o *resourceserver.RemoteKeysOptions) {
				o.Issuer, o.JWKSURL = "", js.srv.URL+"/redirect"
			},
			errHas: "redirect",
		},
		"not found": {
			opts: func(js *jwksServer, o *resourceserver.RemoteKeysOptions) {
				o.Issuer, o.JWKSURL = "", js.srv.URL+"/nothing"
			},
			errHas: "404",
		},
		"status 500": {setup: func(js *jwksServer) { js.status = 500 }, errHas: "500"},
		"too large": {
			setup:  func(js *jwksServer) { js.doc = append(js.doc, make([]byte, signer.MaxJWKSBytes)...) },
			errHas: "larger",
		},
		"not a jwks":      {setup: func(js *jwksServer) { js.doc = []byte("<html>") }, errHas: "invalid jwks"},
		"private members": {setup: func(js *jwksServer) { js.doc = []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`) }, errHas: "private"},
		"timeout": {
			setup:  func(js *jwksServer) { js.hang = make(chan struct{}) },
			opts:   func(_ *jwksServer, o *resourceserver.RemoteKeysOptions) { o.FetchTimeout = 50 * time.Millisecond },
			errHas: "deadline",
		},
	} {
		t.Run(name, func(t *testing.T) {
			js := newJWKSServer(t, k)
			if tc.setup != nil {
				js.set(tc.setup)
			}
			rk := js.remote(t, func(o *resourceserver.RemoteKeysOptions) {
				if tc.opts != nil {
					tc.opts(js, o)
				}
			})
			err := rk.Refresh(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("Refresh = %v, want an error about %q", err, tc.errHas)
			}
			if rk.Ready() || rk.Current() != nil {
				t.Error("keys loaded from a bad source")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			if err := rk.WaitReady(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("WaitReady = %v", err)
			}
			js.set(func(js *jwksServer) {
				if js.hang != nil {
					close(js.hang)
					js.hang = nil
				}
			})
		})
	}
}

func TestNewRemoteKeysChecksOptions(t *testing.T) {
	for name, o := range map[string]resourceserver.RemoteKeysOptions{
		"nothing":         {},
		"http issuer":     {Issuer: "http://auth.example.test"},
		"http jwks":       {JWKSURL: "http://auth.example.test/jwks"},
		"no host":         {Issuer: "https:///path"},
		"user info":       {Issuer: "https://user@auth.example.test"},
		"issuer query":    {Issuer: "https://auth.example.test?x=1"},
		"issuer fragment": {Issuer: "https://auth.example.test#"},
		"bounds":          {Issuer: "https://auth.example.test", MinRefreshInterval: time.Hour, MaxRefreshInterval: time.Minute},
	} {
		if rk, err := resourceserver.NewRemoteKeys(o); err == nil {
			rk.Close()
			t.Errorf("%s: accepted", name)
		}
	}
	rk, err := resourceserver.NewRemoteKeys(resourceserver.RemoteKeysOptions{Issuer: "http://127.0.0.1:1", AllowHTTP: true, Logger: discard})
	if err != nil {
		t.Fatalf("AllowHTTP: %v", err)
	}
	rk.Close()
}

// A failed refresh, of any kind, keeps the last good set.
func TestRemoteKeysKeepsLastGoodSet(t *testing.T) {
	k := authtest.Key(t, signer.AlgES256)
	js := newJWKSServer(t, k)
	rk := js.remote(t)
	waitReady(t, rk)
	good := rk.Current()
	for name, f := range map[string]func(*jwksServer){
		"status 503":      func(js *jwksServer) { js.status = 503 },
		"garbage":         func(js *jwksServer) { js.status = 200; js.doc = []byte("{") },
		"no usable key":   func(js *jwksServer) { js.doc = []byte(`{"keys":[{"kty":"EC","crv":"P-521"}]}`) },
		"private members": func(js *jwksServer) { js.doc = []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`) },
		"too large":       func(js *jwksServer) { js.doc = make([]byte, signer.MaxJWKSBytes+1) },
	} {
		js.set(f)
		if err := rk.Refresh(context.Background()); err == nil {
			t.Errorf("%s: Refresh succeeded", name)
		}
		if rk.Current() != good {
			t.Errorf("%s: the key set changed", name)
		}
	}
}

// An unchanged document keeps the same KeySet; a new one replaces it.
func TestRemoteKeysRefreshSwapsOnChange(t *testing.T) {
	k1, k2 := authtest.Key(t, signer.AlgES256), authtest.Key(t, signer.AlgES256)
	js := newJWKSServer(t, k1)
	rk := js.remote(t)
	waitReady(t, rk)
	first := rk.Current()
	must(t, rk.Refresh(context.Background()))
	if rk.Current() != first {
		t.Error("an unchanged document replaced the set")
	}
	js.setKeys(t, k1, k2)
	must(t, rk.Refresh(context.Background()))
	if !hasKID(rk, k1.ID) || !hasKID(rk, k2.ID) {
		t.Error("new key not loaded")
	}
}

// The background loop refreshes by the response's max-age within the
// configured bounds, and retries failures.
func TestRemoteKeysBackgroundRefresh(t *testing.T) {
	k1, k2 := authtest.Key(t, signer.AlgES256), authtest.Key(t, signer.AlgES256)
	js := newJWKSServer(t, k1)
	js.set(func(js *jwksServer) { js.cacheCtl = "max-age=0" }) // clamped to the minimum
	rk := js.remote(t, func(o *resourceserver.RemoteKeysOptions) {
		o.MinRefreshInterval = 20 * time.Millisecond
		o.MaxRefreshInterval = 20 * time.Millisecond
	})
	waitReady(t, rk)
	js.setKeys(t, k2)
	authtest.Eventually(t, "the rotated key", func() bool { return hasKID(rk, k2.ID) })

	// The server fails: the loop keeps retrying, the set stays.
	js.set(func(js *jwksServer) { js.status = 503 })
	n := js.fetches.Load()
	authtest.Eventually(t, "retries", func() bool { return js.fetches.Load() >= n+3 })
	if !hasKID(rk, k2.ID) {
		t.Error("the last good set was dropped")
	}

	// Close stops the loop.
	rk.Close()
	n = js.fetches.Load()
	time.Sleep(100 * time.Millisecond)
	if js.fetches.Load() != n {
		t.Error("fetches after Close")
	}
	if err := rk.Refresh(context.Background()); err == nil {
		t.Error("Refresh after Close succeeded")
	}
	if !hasKID(rk, k2.ID) {
		t.Error("Close dropped the key set")
	}
}

// Without max-age, the loop waits RefreshInterval: no fetch in between.
func TestRemoteKeysDefaultInterval(t *testing.T) {
	js := newJWKSServer(t, authtest.Key(t, signer.AlgES256))
	rk := js.remote(t)
	waitReady(t, rk)
	time.Sleep(50 * time.Millisecond)
	if n := js.fetches.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

func TestRemoteKeysRefetchRateLimit(t *testing.T) {
	clk := newClock()
	js := newJWKSServer(t, authtest.Key(t, signer.AlgES256))
	rk := js.remote(t, func(o *resourceserver.RemoteKeysOptions) { o.Clock = clk; o.RefetchInterval = 30 * time.Second })
	waitReady(t, rk)
	base := js.fetches.Load()

	must(t, rk.Refetch(context.Background()))
	for range 5 {
		if err := rk.Refetch(context.Background()); !errors.Is(err, resourceserver.ErrRefetchLimited) {
			t.Fatalf("Refetch = %v, want ErrRefetchLimited", err)
		}
	}
	clk.Step(29 * time.Second)
	if err := rk.Refetch(context.Background()); !errors.Is(err, resourceserver.ErrRefetchLimited) {
		t.Fatalf("Refetch after 29 s = %v", err)
	}
	clk.Step(time.Second)
	must(t, rk.Refetch(context.Background()))
	if got := js.fetches.Load() - base; got != 2 {
		t.Errorf("%d fetches, want 2", got)
	}
	// Refresh is not rate limited.
	must(t, rk.Refresh(context.Background()))
	if got := js.fetches.Load() - base; got != 3 {
		t.Errorf("%d fetches, want 3", got)
	}
}

// Concurrent refetches share one fetch.
func TestRemoteKeysRefetchShared(t *testing.T) {
	clk := newClock()
	k1, k2 := authtest.Key(t, signer.AlgES256), authtest.Key(t, signer.AlgES256)
	js := newJWKSServer(t, k1)
	rk := js.remote(t, func(o *resourceserver.RemoteKeysOptions) { o.Clock = clk })
	waitReady(t, rk)
	base := js.fetches.Load()
	js.setKeys(t, k2)
	hang := make(chan struct{})
	js.set(func(js *jwksServer) { js.hang = hang })

	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 20 {
		wg.Go(func() {
			err := rk.Refetch(context.Background())
			if err == nil || errors.Is(err, resourceserver.ErrRefetchLimited) {
				ok.Add(1)
			}
		})
	}
	authtest.Eventually(t, "the fetch", func() bool { return js.fetches.Load() > base })
	time.Sleep(20 * time.Millisecond) // let the others join
	close(hang)
	wg.Wait()
	if got := js.fetches.Load() - base; got != 1 {
		t.Errorf("%d fetches, want 1", got)
	}
	if ok.Load() != 20 || !hasKID(rk, k2.ID) {
		t.Errorf("%d callers ok, new key loaded %v", ok.Load(), hasKID(rk, k2.ID))
	}
}

// A caller whose context ends stops waiting; the fetch goes on for others.
func TestRemoteKeysRefetchContext(t *testing.T) {
	k1, k2 := authtest.Key(t, signer.AlgES256), authtest.Key(t, signer.AlgES256)
	js := newJWKSServer(t, k1)
	rk := js.remote(t)
	waitReady(t, rk)
	js.setKeys(t, k2)
	hang := make(chan struct{})
	js.set(func(js *jwksServer) { js.hang = hang })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := rk.Refetch(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Refetch = %v", err)
	}
	close(hang)
	authtest.Eventually(t, "the shared fetch", func() bool { return hasKID(rk, k2.ID) })
}
