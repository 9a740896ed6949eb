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
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"
)

// DefaultWatchInterval is how often WatchDir re-reads the key directory
// when given no interval.
const DefaultWatchInterval = 5 * time.Second

// waitingLogEvery is how often a Watcher that is still waiting for its
// first key set says so in the log.
const waitingLogEvery = time.Minute

// ErrNoKeyFiles is the error of a key directory that does not exist or
// holds no key file (*.pem) at all, as a Secret volume looks before its
// Secret is written: WatchDir waits for it rather than failing.
var ErrNoKeyFiles = errors.New("no signing key yet")

// WatchDir loads dir with [LoadDir] and returns a Watcher serving it. A
// directory that does not exist or holds no key file is not an error: the
// Watcher then has no key set ([Watcher.Waiting] says why) until one
// appears. Any other failure of that first load (a malformed key file,
// keys that contradict each other) is returned. Until ctx is done, it
// re-reads the directory every interval (DefaultWatchInterval if
// interval <= 0) and, when the file names or contents changed, swaps in
// the new key set. A reload that fails keeps the last good set and logs
// the error on logger (slog.Default if nil); key material is never
// logged. While it waits, it logs so at start and then once a minute.
func WatchDir(ctx context.Context, dir string, interval time.Duration, logger *slog.Logger) (*Watcher, error) {
	m := newWatcher(dir, interval, logger)
	if err := m.load(); err != nil {
		return nil, err
	}
	go m.watch(ctx)
	return m, nil
}

func newWatcher(dir string, interval time.Duration, logger *slog.Logger) *Watcher {
	if interval <= 0 {
		interval = DefaultWatchInterval
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Watcher{dir: dir, interval: interval, logger: logger, logWaitingEvery: max(1, int(waitingLogEvery/interval))}
}

// load is the first Reload: an error unless it loaded or the directory
// holds no key file yet.
func (m *Watcher) load() error {
	_, err := m.Reload()
	if errors.Is(err, ErrNoKeyFiles) {
		m.logWaiting()
		return nil
	}
	return err
}

// Reload re-reads the Watcher's directory and swaps in
// the new key set if the directory changed; it reports whether it swapped.
// Unchanged contents cost one read and one hash and are not parsed again,
// so a bad key file returns its error once, and nil until the files change
// again (a directory that cannot be read errors every time). On error the
// current set is kept. Before the first key set, a directory that does not
// exist or holds no key file returns an error wrapping [ErrNoKeyFiles].
// Reload is safe for concurrent use.
func (m *Watcher) Reload() (changed bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()

	files, err := readKeyFiles(m.dir)
	if err != nil {
		return false, m.failed(err, errors.Is(err, fs.ErrNotExist))
	}
	sum := hashKeyFiles(files)
	if sum == m.lastHash {
		return false, nil
	}
	m.lastHash = sum
	ks, err := buildKeySet(m.dir, files)
	if err != nil {
		return false, m.failed(err, len(files) == 0)
	}
	m.current.Store(ks)
	return true, nil
}

// failed returns the error of a Reload and, while the Watcher has no key
// set, records it as the reason; noFiles says the directory is missing or
// holds no key file. m.mu is held.
func (m *Watcher) failed(err error, noFiles bool) error {
	if m.current.Load() != nil {
		return err
	}
	if noFiles {
		err = fmt.Errorf("%w in %s: waiting for the manager to write the signing-keys Secret", ErrNoKeyFiles, m.dir)
	}
	m.waiting = err
	return err
}

// Waiting returns why the Watcher has no key set yet: an error wrapping
// [ErrNoKeyFiles], or the error of the key files that appeared since. It
// returns nil once a key set is loaded, which it then always has. It is
// safe for concurrent use.
func (m *Watcher) Waiting() error {
	if m.Current() != nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.waiting
}

// watch polls every interval until ctx is done.
func (m *Watcher) watch(ctx context.Context) {
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m.poll()
	}
}

// poll reloads and logs the outcome: a failure once per change of the
// files, a Watcher still waiting for its first key set once in
// logWaitingEvery polls.
func (m *Watcher) poll() {
	waiting := m.Current() == nil
	changed, err := m.Reload()
	switch {
	case changed && waiting:
		ks := m.Current()
		m.logger.Info("signing keys: loaded, no longer waiting",
			"dir", m.dir, "active_kid", ks.Active.ID, "keys", len(ks.Keys))
	case changed:
		ks := m.Current()
		m.logger.Info("signing keys: reloaded",
			"dir", m.dir, "active_kid", ks.Active.ID, "keys", len(ks.Keys))
	case waiting && err != nil && !errors.Is(err, ErrNoKeyFiles):
		m.logger.Error("signing keys: the key files are refused, still waiting for a valid set",
			"dir", m.dir, "error", err)
	case waiting:
		m.waitingPolls++
		if m.waitingPolls%m.logWaitingEvery == 0 {
			m.logWaiting()
		}
	case err != nil:
		m.logger.Error("signing keys: reload failed, keeping the current key set",
			"dir", m.dir, "error", err)
	}
}

// logWaiting says that the Watcher has no key set yet, and why.
func (m *Watcher) logWaiting() {
	if err := m.Waiting(); err != nil {
		m.logger.Warn("signing keys: none loaded yet, not ready", "dir", m.dir, "reason", err.Error())
	}
}
