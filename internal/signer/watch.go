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
	"context"
	"log/slog"
	"time"
)

// DefaultWatchInterval is how often WatchDir re-reads the key directory
// when given no interval.
const DefaultWatchInterval = 5 * time.Second

// WatchDir loads dir with [LoadDir] and returns a Watcher serving it, or
// the error if that first load fails. Until ctx is done, it re-reads the
// directory every interval (DefaultWatchInterval if interval <= 0) and, when
// the file names or contents changed, swaps in the new key set. A reload
// that fails keeps the last good set and logs the error on logger
// (slog.Default if nil); key material is never logged.
func WatchDir(ctx context.Context, dir string, interval time.Duration, logger *slog.Logger) (*Watcher, error) {
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	if logger == nil {
		logger = slog.Default()
	}
	m := &Watcher{dir: dir, interval: interval, logger: logger}
	if _, err := m.Reload(); err != nil {
		return nil, err
	}
	go m.watch(ctx)
	return m, nil
}

// Reload re-reads the Watcher's directory and swaps in
// the new key set if the directory changed; it reports whether it swapped.
// Unchanged contents cost one read and one hash and are not parsed again,
// so a bad key file returns its error once, and nil until the files change
// again (a directory that cannot be read errors every time). On error the
// current set is kept. Reload is safe for concurrent use.
func (m *Watcher) Reload() (changed bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()

	files, err := readKeyFiles(m.dir)
	if err != nil {
		return false, err
	}
	sum := hashKeyFiles(files)
	if m.current.Load() != nil && sum == m.lastHash {
		return false, nil
	}
	m.lastHash = sum
	ks, err := buildKeySet(m.dir, files)
	if err != nil {
		return false, err
	}
	m.current.Store(ks)
	return true, nil
}

// watch reloads every interval until ctx is done.
func (m *Watcher) watch(ctx context.Context) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := m.Reload()
		switch {
		case err != nil:
			m.logger.Error("signing keys: reload failed, keeping the current key set",
				"dir", m.dir, "error", err)
		case changed:
			ks := m.Current()
			m.logger.Info("signing keys: reloaded",
				"dir", m.dir, "active_kid", ks.Active.ID, "keys", len(ks.Keys))
		}
	}
}
