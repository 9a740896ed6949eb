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

// Command resource-service is a small API protected by authstack access
// tokens with package resourceserver: a template for services in the
// cluster.
//
//	GET /api/whoami  any valid token for --audience: the token's identity
//	GET /api/admin   a valid token granting the scope "admin"
//	GET /healthz     liveness
//	GET /readyz      ready once the authorization server's keys are loaded
//
// Usage:
//
//	resource-service --issuer https://auth.example.com --audience https://api.example.com --addr :8080
//
// With --redis-url (the token servers' Redis) the service also keeps a
// revocation mirror, so revoked tokens and disabled users are refused
// within milliseconds, not only at exp; without it, a token is good until
// it expires.
//
// In the cluster, --issuer is the token server's issuer (the "iss" of its
// tokens) and the keys are fetched from the jwks_uri its metadata names;
// --jwks-url fetches them from an explicit URL instead, such as the
// in-cluster Service (http://authstack.<ns>.svc:8080/.well-known/jwks.json
// with --allow-http).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/authstack/authstack/resourceserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "resource-service:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	issuer    string
	audiences []string
	addr      string
	jwksURL   string
	allowHTTP bool
	redisURL  string
	redisKeys string
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	var audience string
	fs := flag.NewFlagSet("resource-service", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.issuer, "issuer", "", "issuer identifier of the authorization server (required)")
	fs.StringVar(&audience, "audience", "", "this service's audience, as tokens name it in aud; comma-separated for several (required)")
	fs.StringVar(&c.addr, "addr", ":8080", "listen address")
	fs.StringVar(&c.jwksURL, "jwks-url", "", "JWK Set URL; by default discovered from the issuer's metadata")
	fs.BoolVar(&c.allowHTTP, "allow-http", false, "allow http:// issuer and JWKS URLs (in-cluster Service or development)")
	fs.StringVar(&c.redisURL, "redis-url", "", "the token servers' Redis, to mirror revocations (optional)")
	fs.StringVar(&c.redisKeys, "redis-key-prefix", "authstack", "the token servers' --redis-key-prefix")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, a := range strings.Split(audience, ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.audiences = append(c.audiences, a)
		}
	}
	if c.issuer == "" || len(c.audiences) == 0 {
		return c, errors.New("--issuer and --audience are required")
	}
	return c, nil
}

// run parses args, listens and serves until ctx is done.
func run(ctx context.Context, args []string, logOut io.Writer) error {
	cfg, err := parseFlags(args, logOut)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, ln, slog.New(slog.NewJSONHandler(logOut, nil)))
}

// serve serves the API on ln until ctx is done, then shuts down
// gracefully.
func serve(ctx context.Context, cfg config, ln net.Listener, log *slog.Logger) error {
	opts := resourceserver.Options{
		Issuer:    cfg.issuer,
		Audiences: cfg.audiences,
		Remote:    resourceserver.RemoteKeysOptions{JWKSURL: cfg.jwksURL, AllowHTTP: cfg.allowHTTP},
		Logger:    log,
	}
	var revocations *resourceserver.Revocations
	if cfg.redisURL != "" {
		var err error
		revocations, err = resourceserver.NewRevocations(ctx, resourceserver.RedisOptions{URL: cfg.redisURL, KeyPrefix: cfg.redisKeys, Logger: log})
		if err != nil {
			ln.Close()
			return err
		}
		defer revocations.Close()
		opts.Revocation = revocations
	}
	m, err := resourceserver.New(opts)
	if err != nil {
		ln.Close()
		return err
	}
	defer m.Close()

	srv := &http.Server{
		Handler:           newHandler(m, revocations),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("Serving", "addr", ln.Addr().String(), "issuer", cfg.issuer, "audiences", cfg.audiences)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHandler routes the API behind m; revocations may be nil.
func newHandler(m *resourceserver.Middleware, revocations *resourceserver.Revocations) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/whoami", m.Handler(http.HandlerFunc(whoami)))
	mux.Handle("GET /api/admin", m.RequireScopes("admin")(http.HandlerFunc(admin)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !m.Ready() {
			http.Error(w, "signing keys not loaded", http.StatusServiceUnavailable)
			return
		}
		if revocations != nil && !revocations.Fresh() {
			http.Error(w, "revocation state stale", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	return mux
}

// identity is the answer of /api/whoami.
type identity struct {
	Subject   string    `json:"sub"`
	ClientID  string    `json:"client_id"`
	Scopes    []string  `json:"scopes"`
	Groups    []string  `json:"groups"`
	ExpiresAt time.Time `json:"expires_at"`
}

func whoami(w http.ResponseWriter, r *http.Request) {
	c, ok := resourceserver.ClaimsFromContext(r.Context())
	if !ok {
		http.Error(w, "not authenticated", http.StatusInternalServerError) // unreachable behind the middleware
		return
	}
	id := identity{Subject: c.Subject, ClientID: c.ClientID, Scopes: c.Scopes(), Groups: c.Groups}
	if c.ExpiresAt != nil {
		id.ExpiresAt = c.ExpiresAt.UTC()
	}
	writeJSON(w, id)
}

func admin(w http.ResponseWriter, r *http.Request) {
	c, _ := resourceserver.ClaimsFromContext(r.Context())
	writeJSON(w, map[string]string{"message": "hello, administrator " + c.Subject})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
