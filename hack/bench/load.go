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
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/authstack/authstack/internal/testing/benchkit"
)

// requestTimeout bounds one request; the server refuses overload within
// its 2s hash-queue timeout, so anything near this is a failure.
const requestTimeout = 30 * time.Second

// target describes the request a load loop sends.
type target struct {
	// build returns request number seq of the given worker (open-loop
	// generators use worker 0).
	build func(ctx context.Context, worker, seq int) (*http.Request, error)
	// ok reports whether a 200 response body is what was asked for.
	ok func(body []byte) bool
}

// statusTransportError keys the requests that got no HTTP response.
const statusTransportError = -1

// loadResult is what a load loop saw.
type loadResult struct {
	Elapsed    time.Duration // from the first request to the last response
	Sent       int
	Skipped    int // open loop: not sent because the concurrency cap was reached
	Status     map[int]int
	BadBody    int // 200 responses without the expected content
	FirstError string
	Latency    map[int][]time.Duration // by status
}

func newLoadResult() *loadResult {
	return &loadResult{Status: map[int]int{}, Latency: map[int][]time.Duration{}}
}

func (r *loadResult) record(status int, d time.Duration, badBody bool, err error) {
	r.Sent++
	r.Status[status]++
	r.Latency[status] = append(r.Latency[status], d)
	if badBody {
		r.BadBody++
	}
	if err != nil && r.FirstError == "" {
		r.FirstError = err.Error()
	}
}

func (r *loadResult) merge(o *loadResult) {
	r.Sent += o.Sent
	r.Skipped += o.Skipped
	r.BadBody += o.BadBody
	for k, v := range o.Status {
		r.Status[k] += v
	}
	for k, v := range o.Latency {
		r.Latency[k] = append(r.Latency[k], v...)
	}
	if r.FirstError == "" {
		r.FirstError = o.FirstError
	}
}

// OK is the number of 200 responses with the expected body.
func (r *loadResult) OK() int { return r.Status[http.StatusOK] - r.BadBody }

// Other is the number of responses that were neither 200 nor except.
func (r *loadResult) Other(except ...int) int {
	n := 0
	for k, v := range r.Status {
		if k != http.StatusOK && !slices.Contains(except, k) {
			n += v
		}
	}
	return n + r.BadBody
}

// statusSummary lists the counts by status, e.g. "200: 410, 503: 380".
func (r *loadResult) statusSummary() string {
	keys := make([]int, 0, len(r.Status))
	for k := range r.Status {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		name := fmt.Sprint(k)
		if k == statusTransportError {
			name = "no response"
		}
		s += fmt.Sprintf("%s: %d", name, r.Status[k])
	}
	if r.BadBody > 0 {
		s += fmt.Sprintf(" (%d of the 200s had an unexpected body)", r.BadBody)
	}
	return s
}

// percentile returns the p-th percentile (0..100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration { return benchkit.Percentile(ds, p) }

// newHTTPClient returns a keep-alive client for up to conns connections.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: requestTimeout,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
	}
}

// do sends req and reads the whole response so the connection is reused.
func do(client *http.Client, req *http.Request) (int, []byte, error) {
	if err := loopbackOnly(req.URL); err != nil {
		return statusTransportError, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return statusTransportError, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return statusTransportError, nil, err
	}
	return resp.StatusCode, body, nil
}

// loopbackOnly refuses any target but 127.0.0.1: this tool generates load
// and must never point it elsewhere.
func loopbackOnly(u *url.URL) error {
	if u.Hostname() != "127.0.0.1" {
		return fmt.Errorf("refusing to send load to %s: only 127.0.0.1 is allowed", u.Host)
	}
	return nil
}

// closedLoop runs workers goroutines, each sending its next request as soon
// as the previous one is answered, until dur has passed or maxRequests have
// been sent in total. Requests in flight at the deadline are completed and
// counted; Elapsed ends with the last of them.
func closedLoop(ctx context.Context, client *http.Client, workers int, dur time.Duration, maxRequests int, t target) *loadResult {
	start := time.Now()
	var mu sync.Mutex
	total := newLoadResult()
	benchkit.ClosedLoop(ctx, workers, dur, maxRequests, func(w, seq int) {
		local := newLoadResult()
		send(ctx, client, t, w, seq, local)
		mu.Lock()
		total.merge(local)
		mu.Unlock()
	})
	total.Elapsed = time.Since(start)
	return total
}

// openLoop sends requests at rate per second on a fixed schedule, whatever
// the server's answers, for dur or until maxTotal requests; each request runs
// in its own goroutine, at most maxInFlight at once (a request due while the
// cap is reached is skipped and counted in Skipped).
func openLoop(ctx context.Context, client *http.Client, rate float64, dur time.Duration, maxInFlight, maxTotal int, t target) *loadResult {
	start := time.Now()
	var mu sync.Mutex
	total := newLoadResult()
	total.Skipped = benchkit.OpenLoop(ctx, rate, dur, maxInFlight, maxTotal, func(seq int) {
		local := newLoadResult()
		send(ctx, client, t, 0, seq, local)
		mu.Lock()
		total.merge(local)
		mu.Unlock()
	})
	total.Elapsed = time.Since(start)
	return total
}

// send sends one request and records its outcome in r.
func send(ctx context.Context, client *http.Client, t target, worker, seq int, r *loadResult) {
	req, err := t.build(ctx, worker, seq)
	if err != nil {
		r.record(statusTransportError, 0, false, err)
		return
	}
	start := time.Now()
	status, body, err := do(client, req)
	d := time.Since(start)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("%s %s: %d %.200s", req.Method, req.URL.Path, status, body)
	}
	r.record(status, d, status == http.StatusOK && !t.ok(body), err)
}
