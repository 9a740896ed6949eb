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
	"fmt"
	"slices"
	"sync"
	"time"
)

// tally counts every response by what it was for and whether it was the
// expected one: a 401 for a revoked token is expected, a 503 in the soak
// is not.
type tally struct {
	mu         sync.Mutex
	expected   map[string]int // "login: 200", "verify of a revoked access token: 401"
	unexpected map[string]int
	examples   []string // the first unexpected response of each kind (at most 10 kinds)
	latency    map[string][]time.Duration
}

func newTally() *tally {
	return &tally{expected: map[string]int{}, unexpected: map[string]int{}, latency: map[string][]time.Duration{}}
}

// check records r as a response to op and reports whether its status is
// one of want (and, when code is not empty, its OAuth error is code).
func (t *tally) check(op string, r reply, code string, want ...int) bool {
	ok := r.err == nil && slices.Contains(want, r.status) && (code == "" || oauthError(r) == code)
	key := fmt.Sprintf("%s: %d", op, r.status)
	if r.status == 0 {
		key = op + ": no response"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if ok {
		t.expected[key]++
		t.latency[op] = append(t.latency[op], r.latency)
		return true
	}
	t.unexpected[key]++
	if t.unexpected[key] == 1 && len(t.examples) < 10 {
		t.examples = append(t.examples, key+" ("+r.String()+")")
	}
	return false
}

// fail records an outcome that no single status shows (a revoked token
// still accepted after the propagation bound).
func (t *tally) fail(op, what string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.unexpected[op+": "+what]++
	if t.unexpected[op+": "+what] == 1 && len(t.examples) < 10 {
		t.examples = append(t.examples, op+": "+what)
	}
}

// note counts an outcome that is neither good nor bad (a revoked token
// accepted while the revocation propagates).
func (t *tally) note(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expected[key]++
}

func (t *tally) errors() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, v := range t.unexpected {
		n += v
	}
	return n
}

func (t *tally) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, v := range t.expected {
		n += v
	}
	for _, v := range t.unexpected {
		n += v
	}
	return n
}
