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

package throttle

import (
	"errors"

	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/internal/oauth"
)

// Refusal answers an attempt the throttle did not admit: 429 with
// Retry-After over a limit (RFC 6585 §4), counted by limit; 503 when the
// counters cannot be reached, so that nothing is let through unchecked.
func Refusal(m *metrics.Metrics, err error) error {
	var exceeded *ExceededError
	if !errors.As(err, &exceeded) {
		return oauth.StoreUnavailable(err)
	}
	m.ThrottleRejections.WithLabelValues(string(exceeded.Scope)).Inc()
	desc := "too many failed attempts; retry later"
	switch {
	case exceeded.InFlight:
		desc = "too many attempts at once; retry later"
	case exceeded.Scope == ScopeUserRate || exceeded.Scope == ScopeClientRate:
		desc = "too many requests; retry later"
	}
	return oauth.TooManyRequests(desc, exceeded.RetryAfter)
}
