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
