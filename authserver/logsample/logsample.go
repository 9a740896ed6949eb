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

// Package logsample keeps floods of like log lines out of the log. Of each
// kind of line (a refusal with a given error and status, say) a burst and
// then a few a second are written; the number left out is written as one
// summary line per kind every period. Under a flood of refused requests
// the log stays readable and its volume bounded, whatever the request
// rate; the metrics, counted elsewhere, stay exact.
package logsample

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"

	"github.com/authstack/authstack/internal/clocks"
)

// Defaults: ten lines of a kind at once, then two a second; a summary
// every ten seconds.
const (
	DefaultBurst = 10
	DefaultRate  = rate.Limit(2)
	DefaultEvery = 10 * time.Second
)

// maxKinds bounds the table: callers' kinds come from a fixed set of
// messages, error codes and statuses, but a bug must not grow it for ever.
const maxKinds = 256

// overflow is the kind of every line past maxKinds kinds.
const overflow = "other"

// Sampler decides which lines of each kind are written. A nil Sampler
// writes everything. It is safe for concurrent use.
type Sampler struct {
	burst int
	rate  rate.Limit
	clock clock.PassiveClock

	mu    sync.Mutex
	kinds map[string]*kind
}

type kind struct {
	lim     *rate.Limiter
	dropped int64 // since the last summary
}

// New returns a Sampler writing burst lines of a kind at once and perSecond
// a second after that, by clk (the real clock when nil).
func New(burst int, perSecond rate.Limit, clk clock.PassiveClock) *Sampler {
	return &Sampler{burst: burst, rate: perSecond, clock: clocks.Or(clk), kinds: make(map[string]*kind)}
}

// Allow reports whether a line of kind k may be written now; if not, it is
// counted for the next summary.
func (s *Sampler) Allow(k string) bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.kinds[k]
	if e == nil {
		if len(s.kinds) >= maxKinds-1 { // the last place is overflow's
			k = overflow
			e = s.kinds[k]
		}
		if e == nil {
			e = &kind{lim: rate.NewLimiter(s.rate, s.burst)}
			s.kinds[k] = e
		}
	}
	if e.lim.AllowN(s.clock.Now(), 1) {
		return true
	}
	e.dropped++
	return false
}

// Summary counts the lines of one kind left out since the last summary.
type Summary struct {
	Kind  string
	Count int64
}

// Take returns the kinds with lines left out since the last call, sorted
// by kind, with their counts, which it resets; and forgets the kinds that
// had none and are idle.
func (s *Sampler) Take() []Summary {
	if s == nil {
		return nil
	}
	var out []Summary
	s.mu.Lock()
	for k, e := range s.kinds {
		if e.dropped > 0 {
			out = append(out, Summary{k, e.dropped})
			e.dropped = 0
		} else if e.lim.TokensAt(s.clock.Now()) >= float64(s.burst) {
			delete(s.kinds, k) // idle and refilled: nothing to remember
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// Flush writes one summary line per kind with lines left out since the
// last summary, and forgets the kinds that had none.
func (s *Sampler) Flush(ctx context.Context, log *slog.Logger) {
	for _, o := range s.Take() {
		log.WarnContext(ctx, "Similar log lines suppressed", "kind", o.Kind, "count", o.Count)
	}
}

// Run flushes every period until ctx ends, and once more then.
func (s *Sampler) Run(ctx context.Context, log *slog.Logger, every time.Duration) {
	s.Summarize(ctx, every, func(ctx context.Context) { s.Flush(ctx, log) })
}

// Summarize calls flush every period until ctx ends, and once more then
// (with a context that is not cancelled): for a caller that writes its
// summaries (Take) in a format of its own.
func (s *Sampler) Summarize(ctx context.Context, every time.Duration, flush func(ctx context.Context)) {
	if s == nil {
		return
	}
	wait.UntilWithContext(ctx, flush, every)
	flush(context.WithoutCancel(ctx))
}
