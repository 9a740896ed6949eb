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

// Package mirror keeps a local mirror of the revocation state that the
// store shares between token server replicas: revoked jtis, revoked grants
// (sids), each user's state (disabled, not-before) and the store epoch.
//
// A Mirror loads the whole state once, then follows the store's change log
// (store.RevocationFeed): it blocks waiting for the next change and reads it
// as soon as it is written, so a revocation made on one replica reaches the
// others within a round trip. Checking a token against the mirror costs a
// map lookup under a read lock and no store command.
//
// The mirror knows how old its knowledge is: the start of its last
// successful read. When that is older than the staleness bound, Check fails
// with ErrStale and callers answer 503; they never accept a token the
// mirror cannot vouch for.
//
// When the store's epoch changes (it lost its data, and a new marker was
// written), the mirror loads again and refuses every token from the earlier
// epoch. When the store went back in time under the same epoch (a restore
// from an old snapshot, a failover to a lagging replica), revocations may
// have been lost without the epoch changing: the mirror replaces the epoch
// itself, which has the same effect everywhere.
package mirror
