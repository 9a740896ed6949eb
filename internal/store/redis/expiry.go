package redis

import "time"

// Redis expiries only collect garbage; decisions use the caller's now.
// The margins keep records alive through moderate clock skew between the
// callers and Redis.
const (
	// gcGrace keeps sessions and revocations past their expiry.
	gcGrace = time.Hour
	// throttleGrace keeps a throttle window past the window after it.
	throttleGrace = time.Minute
)

// expireAt returns t+grace in Unix milliseconds for PEXPIREAT/PXAT, at
// least 1 (Redis rejects 0 and negative times; 1 expires at once).
func expireAt(t time.Time, grace time.Duration) int64 {
	return max(1, t.Add(grace).UnixMilli())
}
