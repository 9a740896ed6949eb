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
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/benchkit"
)

// The round-trip phase (issue 15, part 2; -round-trips): /token latency
// with Redis behind a delaying proxy, against the same server on Redis
// directly. Users with the cheap hash, one request at a time: the
// difference of the medians is what the Redis round trips add to a token,
// the hash being the same on both sides.

// rttSeries is the number of requests of each grant per measurement.
const rttSeries = 400

// sessionRefreshes is how many refreshes one session is used for, under
// the server's default limit of 30 a minute.
const sessionRefreshes = 20

type rttRow struct {
	Delay time.Duration // one way
	// RTT is the p50 of a PING through the proxy less one on Redis
	// directly: the round trip the delays really add on this machine.
	RTT                        time.Duration
	Login, Refresh             time.Duration // p50 through the proxy
	DirectLogin, DirectRefresh time.Duration // p50 on Redis directly
}

// runRoundTrips measures every delay of delays and writes the report's
// section to w.
func runRoundTrips(ctx context.Context, o options, tmp string, delays []time.Duration, w io.Writer) error {
	rds, err := benchkit.StartRedis(ctx, o.redisBin, tmp)
	if err != nil {
		return err
	}
	defer rds.Stop()
	if err := putUsers(ctx, rds.URL, o.users); err != nil {
		return err
	}
	dir, _, err := writeKeyDir(tmp, signer.AlgES256)
	if err != nil {
		return err
	}
	direct := func() (time.Duration, time.Duration, error) { return tokenLatencies(ctx, o, rds.URL, dir) }
	var rows []rttRow
	for _, d := range delays {
		r := rttRow{Delay: d}
		if r.DirectLogin, r.DirectRefresh, err = direct(); err != nil {
			return err
		}
		p, err := benchkit.StartDelayProxy(rds.Addr, d)
		if err != nil {
			return err
		}
		r.Login, r.Refresh, err = tokenLatencies(ctx, o, "redis://"+p.Addr+"/0", dir)
		if err == nil {
			r.RTT, err = pingRTT(ctx, rds.Addr, p.Addr)
		}
		p.Close()
		if err != nil {
			return err
		}
		benchkit.Progress("round trips at %v one way (RTT added %v): login p50 %v (direct %v), refresh p50 %v (direct %v)", d, r.RTT, r.Login, r.DirectLogin, r.Refresh, r.DirectRefresh)
		rows = append(rows, r)
	}
	writeRoundTrips(w, o, rows)
	return nil
}

// tokenLatencies starts a server on redisURL and returns the median
// latency of a password login and of a refresh, one request at a time.
func tokenLatencies(ctx context.Context, o options, redisURL, keysDir string) (time.Duration, time.Duration, error) {
	srv, err := startAuthServer(ctx, o.binary, redisURL, keysDir)
	if err != nil {
		return 0, 0, err
	}
	defer srv.Stop(stopGrace)
	client := newHTTPClient(1)
	defer client.CloseIdleConnections()
	send := func(req *http.Request, err error) (tokenPair, time.Duration, error) {
		if err != nil {
			return tokenPair{}, 0, err
		}
		start := time.Now()
		status, body, err := do(client, req)
		took := time.Since(start)
		var tp tokenPair
		if err == nil && (status != http.StatusOK || json.Unmarshal(body, &tp) != nil || tp.RefreshToken == "") {
			err = fmt.Errorf("POST /token: %d %.300s", status, body)
		}
		return tp, took, err
	}
	logins := tokenTarget(srv.base, 1, o.users, cheapUsers)
	refresh := func(rt string) (*http.Request, error) {
		// A refresh token is base64url: nothing in it needs escaping.
		body := "grant_type=refresh_token&refresh_token=" + rt
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.base+"/token", strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req, err
	}
	var loginTimes, refreshes []time.Duration
	for i := 0; len(loginTimes) < rttSeries+rttSeries/10 || len(refreshes) < rttSeries+rttSeries/10; i++ {
		tp, took, err := send(logins.build(ctx, 0, i))
		if err != nil {
			return 0, 0, err
		}
		loginTimes = append(loginTimes, took)
		for range sessionRefreshes {
			if tp, took, err = send(refresh(tp.RefreshToken)); err != nil {
				// Reported, and the series goes on with a new session.
				benchkit.Progress("refresh refused: %v", err)
				break
			}
			refreshes = append(refreshes, took)
		}
	}
	// The first tenth warms up (connections, scripts): not counted.
	return median(loginTimes[rttSeries/10:]), median(refreshes[rttSeries/10:]), nil
}

// pingRTT is the p50 of PING through proxy less the p50 on direct.
func pingRTT(ctx context.Context, direct, proxy string) (time.Duration, error) {
	p50 := func(addr string) (time.Duration, error) {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		defer c.Close()
		var ds []time.Duration
		for range rttSeries {
			start := time.Now()
			if err := c.Ping(ctx).Err(); err != nil {
				return 0, err
			}
			ds = append(ds, time.Since(start))
		}
		return median(ds[rttSeries/10:]), nil
	}
	d, err := p50(direct)
	if err != nil {
		return 0, err
	}
	p, err := p50(proxy)
	return p - d, err
}

type tokenPair struct {
	RefreshToken string `json:"refresh_token"`
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// parseDelays reads -round-trips: one-way delays, comma-separated.
func parseDelays(s string) ([]time.Duration, error) {
	var out []time.Duration
	for f := range strings.SplitSeq(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("-round-trips: %q is not a positive duration", f)
		}
		out = append(out, d)
	}
	return out, nil
}

func writeRoundTrips(w io.Writer, o options, rows []rttRow) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	host, _ := os.Hostname()
	p("Round trips per token: %s, %s, one request at a time, %d logins and %d refreshes per measurement (users with the cheap hash), on %s.",
		o.binary, time.Now().UTC().Format(time.DateOnly), rttSeries, rttSeries, host)
	p("")
	p("RTT is what the proxy adds to a PING (p50 through it less p50 direct, measured in the same run); the machine is shared, so")
	p("the proxy's delays overshoot, and added ÷ RTT (the sequential round trips a token waits for) is the figure that carries over;")
	p("× 2 ms is what a token waits for Redis at 1 ms each way.")
	p("")
	p("| Delay each way | RTT added to a PING | grant | p50 direct | p50 via the proxy | added | ÷ RTT | × 2 ms |")
	p("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		rtt := r.RTT
		for _, g := range []struct {
			name         string
			proxy, alone time.Duration
		}{{"password grant", r.Login, r.DirectLogin}, {"refresh grant", r.Refresh, r.DirectRefresh}} {
			added := g.proxy - g.alone
			n := added.Seconds() / rtt.Seconds()
			p("| %s | %s | %s | %s | %s | %s | %.2f | %.1f ms |", benchkit.MS(r.Delay), benchkit.MS(rtt), g.name, benchkit.MS(g.alone), benchkit.MS(g.proxy),
				benchkit.MS(added), n, 2*n)
		}
	}
}
