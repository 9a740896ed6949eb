package authserver

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// knownPaths bounds the "handler" label of the request counter.
var knownPaths = map[string]bool{
	"/token": true, "/userinfo": true, "/revoke": true, "/introspect": true, "/verify": true, "/healthz": true, "/readyz": true,
	"/.well-known/oauth-authorization-server": true, "/.well-known/openid-configuration": true,
	"/.well-known/jwks.json": true,
}

// instrument counts and logs every request. It logs the path only: query
// strings can carry credentials and are never logged.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.Metrics.InFlight.Inc()
		defer s.Metrics.InFlight.Dec()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		path := r.URL.Path
		if strings.HasPrefix(path, "/verify/") {
			path = "/verify"
		}
		if !knownPaths[path] {
			path = "other"
		}
		s.Metrics.HTTPRequests.WithLabelValues(path, strconv.Itoa(rec.status)).Inc()
		if path == "/healthz" || path == "/readyz" {
			return
		}
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelDebug, "HTTP request",
			slog.String("method", r.Method), slog.String("path", path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
	})
}
