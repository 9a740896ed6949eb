package redis

import "time"

// Redis expiries only collect garbage; decisions use the caller's now.
// The margins keep records alive through moderate clock skew between the
// callers and Redis.
const (
	// gcGrace keeps refresh tokens and revocations past their expiry.
	gcGrace = time.Hour
	// throttleGrace keeps a throttle window past the window after it.
	throttleGrace = time.Minute
	// revokedFamilyTTL bounds the marker of a family revoked while none of
	// its tokens are stored (so no token expiry is known).
	revokedFamilyTTL = 24 * time.Hour
)

// expireAt returns t+grace in Unix milliseconds for PEXPIREAT/PXAT, at
// least 1 (Redis rejects 0 and negative times; 1 expires at once).
func expireAt(t time.Time, grace time.Duration) int64 {
	return max(1, t.Add(grace).UnixMilli())
}
