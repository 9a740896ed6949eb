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

package benchkit

import (
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"
)

func TestFormats(t *testing.T) {
	for d, want := range map[time.Duration]string{
		250 * time.Millisecond:   "250 ms",
		18600 * time.Microsecond: "18.6 ms",
		1870 * time.Microsecond:  "1.87 ms",
		400 * time.Microsecond:   "400 µs",
		54500 * time.Nanosecond:  "54.5 µs",
	} {
		if got := MS(d); got != want {
			t.Errorf("MS(%v) = %q, want %q", d, got, want)
		}
	}
	for b, want := range map[int64]string{
		171 << 20: "171 MiB",
		74868736:  "71.4 MiB",
		3407872:   "3.25 MiB",
	} {
		if got := MiB(b); got != want {
			t.Errorf("MiB(%d) = %q, want %q", b, got, want)
		}
	}
}

// The /proc readers see this process: some CPU, a resident set no larger
// than its peak, and at least one context switch.
func TestReadSelf(t *testing.T) {
	pid := os.Getpid()
	for start := time.Now(); time.Since(start) < 30*time.Millisecond; {
	}
	c, err := ReadCPU(pid)
	if err != nil || c.Total() <= 0 {
		t.Fatalf("ReadCPU = %+v, %v", c, err)
	}
	m, err := ReadMemory(pid)
	if err != nil || m.RSS <= 0 || m.Peak < m.RSS {
		t.Fatalf("ReadMemory = %+v, %v", m, err)
	}
	if n, err := ReadContextSwitches(pid); err != nil || n <= 0 {
		t.Fatalf("ReadContextSwitches = %d, %v", n, err)
	}
	s := SampleRSS(pid)
	time.Sleep(60 * time.Millisecond)
	if got := s.Stop(); got <= 0 {
		t.Fatalf("SampleRSS = %d", got)
	}
}

func TestStartRedis(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found on PATH (%v); make test installs it (hack/ensure-test-deps.sh)", err)
	}
	t.Cleanup(KillAll)
	r, err := StartRedis(t.Context(), bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Client.Set(t.Context(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	if !r.Exited() {
		t.Fatal("redis-server still running after Stop")
	}
}

// The loops stop at their call budget, and every call has returned when
// they return.
func TestLoopsKeepTheirBudget(t *testing.T) {
	var closed, open, running atomic.Int64
	ClosedLoop(t.Context(), 4, time.Minute, 25, func(int, int) {
		running.Add(1)
		closed.Add(1)
		running.Add(-1)
	})
	skipped := OpenLoop(t.Context(), 10_000, time.Minute, 1000, 30, func(int) {
		running.Add(1)
		open.Add(1)
		running.Add(-1)
	})
	if closed.Load() != 25 || open.Load()+int64(skipped) != 30 || running.Load() != 0 {
		t.Fatalf("closed %d calls (want 25), open %d + %d skipped (want 30), %d still running", closed.Load(), open.Load(), skipped, running.Load())
	}
}

func TestPercentile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for p, want := range map[float64]time.Duration{0: 1, 50: 5, 90: 9, 99: 10, 100: 10} {
		if got := Percentile(ds, p); got != want {
			t.Errorf("Percentile(%v) = %d, want %d", p, got, want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("Percentile of nothing is not 0")
	}
}

// Series are summed over their labels; others, comments and unknown names
// are left out; a bad value is an error.
func TestParseMetrics(t *testing.T) {
	text := "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\na_total{x=\"2\"} 3.5\nb 7\nc 1\n"
	got, err := parseMetrics(text, []string{"a_total", "b", "missing"})
	if err != nil || len(got) != 2 || got["a_total"] != 5.5 || got["b"] != 7 {
		t.Fatalf("parseMetrics = %v, %v", got, err)
	}
	if _, err := parseMetrics("b x\n", []string{"b"}); err == nil {
		t.Fatal("a value that is not a number was read")
	}
}
