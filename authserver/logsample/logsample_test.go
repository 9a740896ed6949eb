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

package logsample

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

func TestSamplerBoundsEachKindAndCountsTheRest(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1_800_000_000, 0))
	s := New(3, 1, clk)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	allowed := func(k string, n int) int {
		got := 0
		for range n {
			if s.Allow(k) {
				got++
			}
		}
		return got
	}
	if got := allowed("a", 100); got != 3 {
		t.Fatalf("%d of 100 lines of a burst written, want the burst, 3", got)
	}
	if got := allowed("b", 2); got != 2 {
		t.Fatalf("another kind: %d of 2 written", got)
	}
	clk.Step(2 * time.Second)
	if got := allowed("a", 10); got != 2 {
		t.Fatalf("two seconds later: %d written, want 2 (one a second)", got)
	}
	s.Flush(context.Background(), log)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"msg":"Similar log lines suppressed"`) ||
		!strings.Contains(lines[0], `"kind":"a"`) || !strings.Contains(lines[0], `"count":`+strconv.Itoa(97+8)) {
		t.Fatalf("summary %q, want one line counting the 105 lines of a left out", buf.String())
	}
	buf.Reset()
	s.Flush(context.Background(), log)
	if buf.Len() != 0 {
		t.Fatalf("a second summary with nothing left out: %q", buf.String())
	}
	// Kinds that went quiet are forgotten once refilled.
	clk.Step(time.Minute)
	s.Flush(context.Background(), log)
	if n := len(s.kinds); n != 0 {
		t.Fatalf("%d idle kinds kept", n)
	}
}

func TestSamplerTableIsBounded(t *testing.T) {
	s := New(1, 1, clocktesting.NewFakePassiveClock(time.Unix(0, 0)))
	for i := range 2 * maxKinds {
		s.Allow(strconv.Itoa(i))
	}
	if n := len(s.kinds); n > maxKinds {
		t.Fatalf("%d kinds held, want at most %d", n, maxKinds)
	}
}

func TestNilSamplerWritesEverything(t *testing.T) {
	var s *Sampler
	for range 100 {
		if !s.Allow("a") {
			t.Fatal("a nil sampler dropped a line")
		}
	}
	s.Flush(context.Background(), slog.New(slog.DiscardHandler))
}

// Run summarises until its context ends, and once more then.
func TestRunFlushesOnStop(t *testing.T) {
	s := New(0, 0, nil)
	s.Allow("a")
	var buf bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Run(ctx, slog.New(slog.NewJSONHandler(&buf, nil)), time.Hour)
	if !strings.Contains(buf.String(), `"count":1`) {
		t.Fatalf("no summary on stop: %q", buf.String())
	}
}
