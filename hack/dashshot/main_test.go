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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWhen(t *testing.T) {
	now := time.Date(2026, 12, 2, 17, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"15m", now.Add(-15 * time.Minute)},
		{"0s", now},
		{"2026-12-02T16:45:54Z", time.Date(2026, 12, 2, 16, 45, 54, 0, time.UTC)},
		{"2026-12-02T17:45:54+01:00", time.Date(2026, 12, 2, 16, 45, 54, 0, time.UTC)},
	} {
		got, err := when(c.in, now)
		if err != nil || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("when(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "2026-12-02 16:45"} {
		if _, err := when(bad, now); err == nil {
			t.Errorf("when(%q) took it", bad)
		}
	}
}

func TestListFlag(t *testing.T) {
	var l listFlag
	for _, v := range []string{"a", "b, c", ",d,"} {
		if err := l.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	if got := l.String(); got != "a,b,c,d" {
		t.Errorf("namespaces %q, want a,b,c,d", got)
	}
}

// Without Chromium, -png fails at once, saying how to get it, before any
// query.
func TestPNGNeedsChromium(t *testing.T) {
	o := options{prometheus: "http://127.0.0.1:1", dashboard: filepath.Join("..", "..", "config", "monitoring", "grafana-dashboard.json"),
		from: "15m", to: "0s", scrape: 15 * time.Second, timeout: time.Second, width: 1600,
		out: filepath.Join(t.TempDir(), "d.svg"), png: filepath.Join(t.TempDir(), "d.png"), chromium: "/nonexistent/chromium"}
	err := run(o)
	if err == nil || !strings.Contains(err.Error(), "apt-get install chromium") {
		t.Fatalf("run without Chromium: %v", err)
	}
	if _, err := os.Stat(o.out); err == nil {
		t.Error("an SVG was written")
	}
	o.png, o.from, o.to = "", "1m", "2m"
	if err := run(o); err == nil || !strings.Contains(err.Error(), "not before") {
		t.Errorf("-from after -to: %v", err)
	}
}
