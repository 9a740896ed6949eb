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

// Package load is what test/cluster's load generator (loadgen) reports
// for a phase of load, shared by loadgen and the test that reads it.
package load

import "fmt"

// Counts are the requests of one phase.
type Counts struct {
	Seconds  float64 `json:"seconds"`
	Requests int     `json:"requests"` // answered 200
	Failed   int     `json:"failed"`
	// Redials are connections refused (ECONNREFUSED) before a request
	// was sent, then made again: nothing was in flight. RedialMillis is
	// the longest a request spent redialing.
	Redials      int   `json:"redials"`
	RedialMillis int64 `json:"redial_ms"`
	// Replayed are requests net/http sent again by itself because their
	// connection broke before an answer: GETs and requests that wrote
	// nothing. Each was in flight on a connection that went away.
	Replayed int `json:"replayed"`
	// Failures are the first failures, each with its time.
	Failures []Failure `json:"failures,omitempty"`
}

// Failure is one failed request.
type Failure struct {
	At string `json:"at"` // RFC 3339 with milliseconds, UTC
	// Transport is true when no HTTP answer came (a connection reset,
	// EOF, a timeout), false for an answer that was not a 200.
	Transport bool   `json:"transport"`
	Error     string `json:"error"`
}

// TimeFormat is Failure.At's layout.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

func (c Counts) String() string {
	return fmt.Sprintf("%d requests in %.1fs (%.0f/s), %d failed, %d replayed by net/http, %d refused connections redialed (longest %d ms)",
		c.Requests, c.Seconds, float64(c.Requests)/c.Seconds, c.Failed, c.Replayed, c.Redials, c.RedialMillis)
}
