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

package authserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// MaxHeaderBytes bounds request headers. A bearer token is a few hundred
// bytes; a megabyte of header is refused by the HTTP server itself.
const MaxHeaderBytes = 64 << 10

// Listeners are the addresses Run serves on.
type Listeners struct {
	API net.Listener
	Ops net.Listener // may be nil
	// TLS, when set, makes the API listener serve HTTPS (HTTP/2 included)
	// with it; nil serves plain HTTP, as behind a TLS-terminating ingress.
	// The Ops listener is always plain HTTP, for the kubelet's probes.
	TLS *tls.Config
}

// Run serves the API and operations handlers until ctx ends, then shuts down
// gracefully: in-flight requests get up to grace to finish.
func (s *Server) Run(ctx context.Context, l Listeners, grace time.Duration) error {
	// The mirror outlives the listeners: in-flight requests still validate
	// while draining.
	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	started := s.start(bg)
	defer func() {
		// The audit trail's last summary and the last throttled users
		// are written before Run returns (and its caller closes the
		// audit log).
		stopBackground()
		if started {
			s.flushing.Wait()
		}
	}()
	servers := []*http.Server{s.httpServer(s.closeWhileDraining(s.Handler()))}
	servers[0].TLSConfig = l.TLS
	listeners := []net.Listener{l.API}
	if l.Ops != nil {
		servers = append(servers, s.httpServer(s.OpsHandler()))
		listeners = append(listeners, l.Ops)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := serveOn(srv, listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve %s: %w", listeners[i].Addr(), err)
				return
			}
			errc <- nil
		}()
	}
	s.cfg.Logger.Info("Token server listening", "addr", l.API.Addr().String(), "tls", l.TLS != nil, "issuer", s.cfg.Issuer)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.draining.Store(true)
	if err == nil && s.cfg.DrainDelay > 0 {
		s.cfg.Logger.Info("Draining: readiness fails before the listeners close", "delay", s.cfg.DrainDelay.String())
		time.Sleep(s.cfg.DrainDelay)
	}
	s.cfg.Logger.Info("Shutting down", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	for _, srv := range servers {
		err = errors.Join(err, srv.Shutdown(sctx))
	}
	return err
}

// closeWhileDraining answers every HTTP/1 request with Connection: close
// once the drain has begun, so keep-alive clients leave this replica one
// request at a time, each after a whole answer, while the drain delay
// lets load balancers catch up. Without it their connections stay open
// until Shutdown closes the idle ones, and a request sent on one just as
// it closes is lost (or, if idempotent, resent by the client). HTTP/2
// gets a GOAWAY from Shutdown instead.
func (s *Server) closeWhileDraining(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && s.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// serveOn serves srv on ln: HTTPS when srv has a TLS configuration (its
// certificate comes from it, not from files named here).
func serveOn(srv *http.Server, ln net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

func (s *Server) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		// net/http's own messages, mostly failed TLS handshakes (scanners,
		// plain HTTP on the HTTPS port), at debug: any client can cause them.
		ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug),
	}
}
