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
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/internal/oauth"
)

// statusRecorder remembers the status code a handler wrote, and whether
// the error it rendered (oauth.WriteError tells it: oauth.ErrorObserver)
// was the store's being unreachable.
type statusRecorder struct {
	http.ResponseWriter
	status    int
	storeDown bool
}

// ObserveError implements oauth.ErrorObserver.
func (r *statusRecorder) ObserveError(e *oauth.Error) {
	r.storeDown = r.storeDown || e.StoreDown()
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

// Unwrap gives http.ResponseController the underlying writer (Flush,
// deadlines).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument counts and logs every request, labelled by the route that
// served it (the route table's label: a bounded set) or "other". It logs
// that label only, not the path: query strings can carry credentials and
// are never logged.
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Metrics.InFlight.Inc()
		defer s.Metrics.InFlight.Dec()
		path, counts := otherLabel, s.routes.other
		rt, ok := s.routes.match(r.URL.Path)
		if ok {
			path, counts = rt.label(), rt.counts
		}
		// Every request pays for the log line only when it is written.
		logged := !rt.quiet && s.cfg.Logger.Enabled(r.Context(), slog.LevelDebug)
		var start time.Time
		if logged {
			start = time.Now()
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		counts.inc(rec.status)
		if rec.storeDown {
			counts.storeDown.Inc()
		}
		if !logged {
			return
		}
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelDebug, "HTTP request",
			slog.String("method", r.Method), slog.String("path", path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
	})
}

// requestCounts counts one route's requests by status code, and those
// refused because the store could not be reached: each code's counter is
// looked up by its labels once, not on every request.
type requestCounts struct {
	vec   *prometheus.CounterVec // the "handler" label set
	mu    sync.RWMutex
	codes map[int]prometheus.Counter
	// storeDown is the route's StoreUnavailable counter, made at once so
	// that every route's series exists (at 0) before the first outage.
	storeDown prometheus.Counter
}

func newRequestCounts(m *metrics.Metrics, handler string) *requestCounts {
	return &requestCounts{
		vec:       m.HTTPRequests.MustCurryWith(prometheus.Labels{"handler": handler}),
		codes:     make(map[int]prometheus.Counter),
		storeDown: m.StoreUnavailable.WithLabelValues(handler),
	}
}

// inc counts a request answered with code.
func (c *requestCounts) inc(code int) {
	c.mu.RLock()
	ctr, ok := c.codes[code]
	c.mu.RUnlock()
	if !ok {
		ctr = c.vec.WithLabelValues(strconv.Itoa(code))
		c.mu.Lock()
		c.codes[code] = ctr
		c.mu.Unlock()
	}
	ctr.Inc()
}
