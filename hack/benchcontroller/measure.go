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
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/testing/benchkit"
	"github.com/authstack/authstack/internal/testing/serverproc"
)

// apiRequests reads the kube-apiserver's apiserver_request_total, summed by
// verb and resource (with its subresource), leaving out LIST and WATCH:
// the bench polls with LISTs, and an informer's LIST and WATCH cost once
// per manager, not per user.
func apiRequests(cfg *rest.Config) (map[string]float64, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Get(strings.TrimSuffix(cfg.Host, "/") + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	counts := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		labels, value, ok := strings.Cut(strings.TrimPrefix(line, "apiserver_request_total{"), "} ")
		if !ok {
			continue
		}
		verb, resource := label(labels, "verb"), label(labels, "resource")
		if verb == "LIST" || verb == "WATCH" || resource == "" {
			continue
		}
		if sub := label(labels, "subresource"); sub != "" {
			resource += "/" + sub
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics: %q: %w", line, err)
		}
		counts[verb+" "+resource] += v
	}
	return counts, sc.Err()
}

// label returns the value of name in a Prometheus label list.
func label(labels, name string) string {
	_, rest, ok := strings.Cut(","+labels, ","+name+`="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// perUser formats the requests made between two readings, per user; only
// those of at least 0.01 per user.
func perUser(before, after map[string]float64, n int) string {
	var parts []string
	total := 0.0
	for k, v := range after {
		d := (v - before[k]) / float64(n)
		if d < 0.01 {
			continue
		}
		total += d
		parts = append(parts, fmt.Sprintf("%s %.2f", k, d))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%.2f in all (%s)", total, strings.Join(parts, ", "))
}

// startServer runs `authstack server` on the manager's Redis.
func startServer(bin, work, redisURL string) (*serverproc.Server, error) {
	keys := filepath.Join(work, "keys")
	if err := serverproc.WriteKey(keys); err != nil {
		return nil, err
	}
	return serverproc.Start(bin, work, "server", redisURL, "http://authstack.bench", keys, nil, "--log-level", "error")
}

// login posts three password grants for the user and reports the outcome
// and the median latency; any failure is an error.
func login(s *serverproc.Server, username, pw string) (string, error) {
	body := url.Values{"grant_type": {v1alpha1.GrantTypePassword}, "username": {username}, "password": {pw}}.Encode()
	var took []time.Duration
	for range 3 {
		start := time.Now()
		resp, err := s.Client().Post(s.URL+"/token", "application/x-www-form-urlencoded", strings.NewReader(body))
		if err != nil {
			return "", err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took = append(took, time.Since(start))
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"access_token":"`) {
			return "", fmt.Errorf("/token for %s: %s", username, resp.Status)
		}
	}
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	return fmt.Sprintf("200 OK, median latency of 3: %s (one argon2id verify is most of it)", benchkit.MS(took[1])), nil
}

// redisUsedMemory reads INFO memory's used_memory.
func redisUsedMemory(r *benchkit.Redis) (int64, error) {
	info, err := r.Client.Info(context.Background(), "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("INFO memory has no used_memory")
}
