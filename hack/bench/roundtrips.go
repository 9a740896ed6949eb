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
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

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
	Delay                      time.Duration // one way
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
		p.Close()
		if err != nil {
			return err
		}
		benchkit.Progress("round trips at %v one way: login p50 %v (direct %v), refresh p50 %v (direct %v)", d, r.Login, r.DirectLogin, r.Refresh, r.DirectRefresh)
		rows = append(rows, r)
	}
	writeRoundTrips(w, o, rows)
	return nil
}

// tokenLatencies starts a server on redisURL and returns the median
// latency of a password login and of a refresh, one request at a time.
func tokenLatencies(ctx context.Context, o options, redisURL, keysDir string) (login, refresh time.Duration, err error) {
	srv, err := startAuthServer(ctx, o.binary, redisURL, keysDir)
	if err != nil {
		return 0, 0, err
	}
	defer srv.Stop(stopGrace)
	client := newHTTPClient(1)
	defer client.CloseIdleConnections()
	post := func(form url.Values) (tokenPair, time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.base+"/token", strings.NewReader(form.Encode()))
		if err != nil {
			return tokenPair{}, 0, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		start := time.Now()
		status, body, err := do(client, req)
		took := time.Since(start)
		var tp tokenPair
		if err == nil && (status != http.StatusOK || json.Unmarshal(body, &tp) != nil || tp.RefreshToken == "") {
			err = fmt.Errorf("POST /token: %d %.300s", status, body)
		}
		return tp, took, err
	}
	var logins, refreshes []time.Duration
	for i := 0; len(logins) < rttSeries+rttSeries/10 || len(refreshes) < rttSeries+rttSeries/10; i++ {
		tp, took, err := post(url.Values{"grant_type": {"password"}, "username": {benchUser(cheapUsers, i%o.users)}, "password": {benchPassword}})
		if err != nil {
			return 0, 0, err
		}
		logins = append(logins, took)
		for range sessionRefreshes {
			if tp, took, err = post(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tp.RefreshToken}}); err != nil {
				return 0, 0, err
			}
			refreshes = append(refreshes, took)
		}
	}
	// The first tenth warms up (connections, scripts): not counted.
	return median(logins[rttSeries/10:]), median(refreshes[rttSeries/10:]), nil
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
	p("| Delay each way (RTT) | grant | p50 direct | p50 via the proxy | added | ÷ RTT |")
	p("|---|---|---|---|---|---|")
	for _, r := range rows {
		rtt := 2 * r.Delay
		for _, g := range []struct {
			name         string
			proxy, alone time.Duration
		}{{"password", r.Login, r.DirectLogin}, {"refresh", r.Refresh, r.DirectRefresh}} {
			added := g.proxy - g.alone
			p("| %s (%s) | %s | %s | %s | %s | %.2f |", benchkit.MS(r.Delay), benchkit.MS(rtt), g.name, benchkit.MS(g.alone), benchkit.MS(g.proxy),
				benchkit.MS(added), added.Seconds()/rtt.Seconds())
		}
	}
}
