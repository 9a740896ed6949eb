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
