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

// Command dashshot draws authstack's Grafana dashboard without Grafana: it
// evaluates every query of config/monitoring/grafana-dashboard.json in a
// Prometheus over a time range (query_range, the variables expanded as
// Grafana expands them) and draws the answers on the dashboard's grid as
// an SVG, and with -png as a PNG through headless Chromium. The picture
// says in its footer that it was drawn so, not by Grafana.
//
// Usage:
//
//	go run ./hack/dashshot -prometheus http://127.0.0.1:9090 -from 15m -o dashboard.svg [-png dashboard.png]
//
// -from and -to take RFC 3339 times or durations back from now (-to 0, the
// default, is now). A query Prometheus refuses is reported and its panel
// drawn with the error; dashshot then exits 1.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/authstack/authstack/internal/dashboard"
)

// listFlag is a repeatable flag of comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

type options struct {
	prometheus, dashboard, from, to string
	namespaces                      listFlag
	step, scrape, timeout           time.Duration
	width                           int
	out, png, chromium              string
}

func main() {
	var o options
	flag.StringVar(&o.prometheus, "prometheus", "http://127.0.0.1:9090", "the Prometheus to query")
	flag.StringVar(&o.dashboard, "dashboard", "config/monitoring/grafana-dashboard.json", "the dashboard JSON")
	flag.Var(&o.namespaces, "namespace", "the namespace variable's values (repeatable, or comma-separated; none: All)")
	flag.StringVar(&o.from, "from", "1h", "start: an RFC 3339 time, or a duration back from now")
	flag.StringVar(&o.to, "to", "0s", "end: an RFC 3339 time, or a duration back from now")
	flag.DurationVar(&o.step, "step", 0, "the query step ($__interval); 0: the range over 300, at least the scrape interval")
	flag.DurationVar(&o.scrape, "scrape-interval", dashboard.DefaultScrapeInterval, "Prometheus's scrape interval (what $__rate_interval is computed from)")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Minute, "bound on all the queries and the PNG")
	flag.IntVar(&o.width, "width", 1600, "width of the picture in pixels")
	flag.StringVar(&o.out, "o", "dashboard.svg", "the SVG to write")
	flag.StringVar(&o.png, "png", "", "also write this PNG (headless Chromium renders the SVG)")
	flag.StringVar(&o.chromium, "chromium", "/usr/bin/chromium", "Chromium, for -png")
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "dashshot:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	now := time.Now().UTC()
	start, err := when(o.from, now)
	if err != nil {
		return fmt.Errorf("-from: %w", err)
	}
	end, err := when(o.to, now)
	if err != nil {
		return fmt.Errorf("-to: %w", err)
	}
	if !end.After(start) {
		return fmt.Errorf("-from %s is not before -to %s", start, end)
	}
	step := o.step
	if step <= 0 {
		step = max(o.scrape, (end.Sub(start) / 300).Round(time.Second))
	}
	b, err := os.ReadFile(o.dashboard)
	if err != nil {
		return err
	}
	d, err := dashboard.Parse(b)
	if err != nil {
		return err
	}
	if o.png != "" {
		if _, err := exec.LookPath(o.chromium); err != nil {
			return fmt.Errorf("-png needs Chromium (%s: %w): apt-get install chromium, or name it with -chromium", o.chromium, err)
		}
	}
	client, err := api.NewClient(api.Config{Address: o.prometheus})
	if err != nil {
		return err
	}
	prom := v1.NewAPI(client)
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	info, err := prom.Buildinfo(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", o.prometheus, err)
	}
	r := v1.Range{Start: start, End: end, Step: step}
	vars := dashboard.Vars{Values: map[string][]string{"namespace": o.namespaces}, ScrapeInterval: o.scrape}
	results, evalErr := dashboard.Evaluate(ctx, prom, d, r, vars)
	if results == nil {
		return evalErr
	}
	var svg bytes.Buffer
	if err := dashboard.RenderSVG(&svg, d, results, dashboard.RenderOptions{Width: o.width, Range: r,
		Source: filepath.ToSlash(o.dashboard), PrometheusVersion: info.Version, Vars: vars}); err != nil {
		return err
	}
	if err := os.WriteFile(o.out, svg.Bytes(), 0o644); err != nil {
		return err
	}
	summarize(results)
	if o.png != "" {
		if err := screenshot(ctx, o.chromium, o.out, o.png, o.width, dashboard.Height(d)); err != nil {
			return err
		}
	}
	return evalErr
}

// when reads an RFC 3339 time, or a duration back from now.
func when(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration", s)
	}
	return t.UTC(), nil
}

// summarize tells, per panel, how many series and finite points it got.
func summarize(results []dashboard.PanelResult) {
	for _, pr := range results {
		series, points := 0, 0
		for _, t := range pr.Targets {
			for _, s := range t.Series {
				series++
				points += s.Finite()
			}
		}
		fmt.Fprintf(os.Stderr, "dashshot: %-40q %2d series, %5d points\n", pr.Panel.Title, series, points)
	}
}

// screenshot renders the SVG file to png with headless Chromium, in a
// window of the picture's size.
func screenshot(ctx context.Context, chromium, svgFile, png string, w, h int) error {
	abs, err := filepath.Abs(svgFile)
	if err != nil {
		return err
	}
	out, err := filepath.Abs(png)
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "dashshot-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir="+profile, "--screenshot="+out, fmt.Sprintf("--window-size=%d,%d", w, h), "file://"+abs)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", chromium, err, b)
	}
	if _, err := os.Stat(out); err != nil {
		return fmt.Errorf("chromium wrote no %s: %w", out, err)
	}
	return nil
}
