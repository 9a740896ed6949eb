//go:build linux

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

package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime/metrics"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Where a refusal's time goes. The generator measures a request from the
// call to the end of the body, and shares the cores with the replicas: its
// own goroutines waiting for a P or a core inflate its figures. So the
// overload also reports, per request, the time from the request written
// to the response's first byte (httptrace: no connection wait, no body
// read), and, from each replica's /metrics, the handler's own time
// (authstack_token_request_duration_seconds by outcome) and how long the
// replicas' goroutines waited runnable (go_sched_latencies_seconds: a
// request that arrives while every P runs a hash waits there, before the
// handler starts); and the same scheduler figure for the generator itself.

// Series read from the replicas.
const (
	metricTokenDuration = "authstack_token_request_duration_seconds"
	metricSchedLatency  = "go_sched_latencies_seconds"
	schedLatencyMetric  = "/sched/latencies:seconds" // runtime/metrics, in the generator
)

// histogram is a cumulative histogram: count[i] observations ≤ upper[i];
// the last upper is +Inf.
type histogram struct {
	upper []float64
	count []float64
}

// add returns h + o, bucket by bucket; a zero histogram takes o's buckets.
func (h histogram) add(o histogram, sign float64) histogram {
	if len(h.upper) == 0 {
		h = histogram{upper: o.upper, count: make([]float64, len(o.count))}
	} else {
		h.count = append([]float64(nil), h.count...)
	}
	for i := range min(len(h.count), len(o.count)) {
		h.count[i] += sign * o.count[i]
	}
	return h
}

func (h histogram) total() float64 {
	if len(h.count) == 0 {
		return 0
	}
	return h.count[len(h.count)-1]
}

// quantile is the upper bound of the bucket that holds the q-th quantile
// (nearest rank): the histogram cannot say more.
func (h histogram) quantile(q float64) float64 {
	rank := math.Ceil(q * h.total())
	for i, c := range h.count {
		if c >= rank && c > 0 {
			return h.upper[i]
		}
	}
	return math.NaN()
}

// within is the share of the observations ≤ bound (bound must be a
// bucket's upper bound to be exact).
func (h histogram) within(bound float64) float64 {
	for i, u := range h.upper {
		if u >= bound {
			return h.count[i] / max(h.total(), 1)
		}
	}
	return 1
}

// above is how many observations are > bound.
func (h histogram) above(bound float64) float64 { return h.total() - h.within(bound)*max(h.total(), 1) }

// seconds formats a bucket bound.
func seconds(s float64) string {
	if math.IsNaN(s) {
		return "–"
	}
	if math.IsInf(s, 1) {
		return "+Inf"
	}
	return fmt.Sprintf("≤ %s", time.Duration(s*float64(time.Second)).Round(10*time.Microsecond))
}

// serverHistograms are one replica's histograms: the password grant's
// duration by outcome, and its scheduler's latency.
type serverHistograms struct {
	token map[string]histogram // by outcome
	sched histogram
}

func (s serverHistograms) add(o serverHistograms, sign float64) serverHistograms {
	out := serverHistograms{token: map[string]histogram{}, sched: s.sched.add(o.sched, sign)}
	for k, h := range s.token {
		out.token[k] = h
	}
	for k, h := range o.token {
		out.token[k] = out.token[k].add(h, sign)
	}
	return out
}

// scrapeHistograms reads a replica's histograms from its /metrics.
func scrapeHistograms(ctx context.Context, url string) (serverHistograms, error) {
	out := serverHistograms{token: map[string]histogram{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return out, err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("%s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return out, err
	}
	if f := fams[metricTokenDuration]; f != nil {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["grant_type"] == grantPassword {
				out.token[labels["outcome"]] = out.token[labels["outcome"]].add(promHistogram(m.GetHistogram().GetBucket(), m.GetHistogram().GetSampleCount()), 1)
			}
		}
	}
	if f := fams[metricSchedLatency]; f != nil {
		for _, m := range f.GetMetric() {
			out.sched = out.sched.add(promHistogram(m.GetHistogram().GetBucket(), m.GetHistogram().GetSampleCount()), 1)
		}
	}
	return out, nil
}

// promBucket is what a parsed Prometheus bucket offers.
type promBucket interface {
	GetUpperBound() float64
	GetCumulativeCount() uint64
}

func promHistogram[B promBucket](buckets []B, n uint64) histogram {
	var h histogram
	for _, b := range buckets {
		h.upper = append(h.upper, b.GetUpperBound())
		h.count = append(h.count, float64(b.GetCumulativeCount()))
	}
	h.upper = append(h.upper, math.Inf(1))
	h.count = append(h.count, float64(n))
	return h
}

// clusterHistograms sums the replicas' histograms.
func clusterHistograms(ctx context.Context, c *cluster) (serverHistograms, error) {
	var sum serverHistograms
	for _, s := range c.servers {
		h, err := scrapeHistograms(ctx, s.Ops+"/metrics")
		if err != nil {
			return sum, err
		}
		sum = sum.add(h, 1)
	}
	return sum, nil
}

// ownSchedLatency is the generator's own scheduler latency so far,
// cumulative, in the buckets of runtime/metrics.
func ownSchedLatency() histogram {
	s := []metrics.Sample{{Name: schedLatencyMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return histogram{}
	}
	fh := s[0].Value.Float64Histogram()
	h := histogram{upper: fh.Buckets[1:]} // bucket i is [Buckets[i], Buckets[i+1])
	c := 0.0
	for _, n := range fh.Counts {
		c += float64(n)
		h.count = append(h.count, c)
	}
	return h
}
