package token

import (
	"errors"

	"github.com/authstack/authstack/authserver/metrics"
	"github.com/authstack/authstack/authserver/oauth"
	"github.com/authstack/authstack/authserver/throttle"
)

// refusal answers an attempt the throttle did not admit: 429 with
// Retry-After over a limit (RFC 6585 §4), counted by limit; 503 when the
// counters cannot be reached, so that nothing is let through unchecked.
func refusal(m *metrics.Metrics, err error) error {
	var exceeded *throttle.ExceededError
	if errors.As(err, &exceeded) {
		m.ThrottleRejections.WithLabelValues(string(exceeded.Scope)).Inc()
		return oauth.TooManyRequests(exceeded.RetryAfter)
	}
	return oauth.Unavailable("store unavailable", retryAfterStore, err)
}
