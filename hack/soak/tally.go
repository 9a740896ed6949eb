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
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
	if c := errorClass(r); c != "" {
		key += " " + c
	}
	t.unexpected[key]++
	if t.unexpected[key] == 1 && len(t.examples) < 10 {
		t.examples = append(t.examples, key+" ("+r.String()+")")
	}
	return false
}

// errorClass is an unexpected answer's OAuth error and description, which
// tell its causes apart: a 503 "server busy" is the hash pool refusing what
// the CPU it got cannot hash in time (on a shared machine, less than the
// capacity measured), a 503 "revocation state unavailable" a mirror behind
// its staleness bound, a 400 "refresh token already used" a real fault.
func errorClass(r reply) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(r.body, &e) != nil || e.Error == "" {
		return ""
	}
	return fmt.Sprintf("%s %q", e.Error, truncate(e.Description, 60))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// busy is how many unexpected answers were the hash pool's 503 "server
// busy".
func (t *tally) busy() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for k, v := range t.unexpected {
		if strings.Contains(k, serverBusy) {
			n += v
		}
	}
	return n
}

// serverBusy is the description of the hash pool's 503
// (authserver/token's Overloaded and its queue timeout).
const serverBusy = `"server busy; retry later"`

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
