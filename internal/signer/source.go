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

package signer

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Source provides the current key set. Callers fetch it once per request
// and use that snapshot throughout, so a concurrent rotation never mixes
// two sets within one operation.
type Source interface {
	Current() *KeySet
}

// Watcher is a [Source] that follows a directory of keys: [WatchDir]
// builds it, and [Watcher.Reload] swaps in a new key set atomically. Until
// the directory holds its first valid key set, Current is nil and
// [Watcher.Waiting] says why.
type Watcher struct {
	current atomic.Pointer[KeySet]

	dir      string
	interval time.Duration
	logger   *slog.Logger

	mu       sync.Mutex // serialises Reload
	lastHash [32]byte   // content hash of the last directory read
	waiting  error      // why current is nil; under mu

	// Of the polling goroutine: polls without a key set, and how many of
	// them make one log line.
	waitingPolls, logWaitingEvery int
}

// Current returns the current key set. It is safe for concurrent use.
func (m *Watcher) Current() *KeySet { return m.current.Load() }

// Static returns a Source that always serves ks.
func Static(ks *KeySet) Source { return static{ks} }

type static struct{ ks *KeySet }

func (s static) Current() *KeySet { return s.ks }
