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
	"bytes"
	"context"
	"crypto"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// secretDir mimics a Kubernetes Secret volume: the files are symlinks
// through the "..data" symlink into a timestamped directory, and an update
// atomically swaps "..data".
type secretDir struct {
	t     *testing.T
	dir   string
	gen   int
	stale []string // links to keys no longer in the volume
}

// update publishes files as the new contents of the volume.
func (s *secretDir) update(files map[string][]byte) {
	s.t.Helper()
	s.gen++
	ts := filepath.Join(s.dir, "..2026_01_01_00_00_0"+string(rune('0'+s.gen)))
	must(s.t, os.Mkdir(ts, 0o700))
	for name, data := range files {
		writeFile(s.t, ts, name, data)
		link := filepath.Join(s.dir, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			must(s.t, os.Symlink(filepath.Join("..data", name), link))
		}
	}
	tmp := filepath.Join(s.dir, "..data_tmp")
	must(s.t, os.Symlink(filepath.Base(ts), tmp))
	must(s.t, os.Rename(tmp, filepath.Join(s.dir, "..data")))
	// Like the kubelet, remove the links of removed keys after the swap;
	// keep one dangling until the next update to cover that window.
	s.stale = s.stale[:0]
	entries, err := os.ReadDir(s.dir)
	must(s.t, err)
	for _, e := range entries {
		if _, ok := files[e.Name()]; !ok && !strings.HasPrefix(e.Name(), "..") {
			s.stale = append(s.stale, e.Name())
		}
	}
}

// cleanup removes the links of removed keys, which update leaves dangling.
func (s *secretDir) cleanup() {
	s.t.Helper()
	for _, name := range s.stale {
		must(s.t, os.Remove(filepath.Join(s.dir, name)))
	}
	s.stale = nil
}

// syncBuffer is a bytes.Buffer safe for the watcher goroutine's logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestWatchDirSecretMount(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	k1, k2 := newPrivate(t, AlgES256), newPrivate(t, AlgEdDSA)
	id := func(priv crypto.Signer) string {
		k, err := NewKey(priv)
		must(t, err)
		return k.ID
	}

	s := &secretDir{t: t, dir: t.TempDir()}
	s.update(map[string][]byte{"active.pem": pkcs8PEM(t, k1)})
	m, err := WatchDir(ctx, s.dir, time.Hour, slog.New(slog.DiscardHandler))
	must(t, err)
	if got := m.Current().Active.ID; got != id(k1) {
		t.Fatalf("active = %s, want %s", got, id(k1))
	}

	// Unchanged: nothing to do.
	if changed, err := m.Reload(); changed || err != nil {
		t.Fatalf("Reload of unchanged dir = %v, %v", changed, err)
	}

	// Rotation: k2 becomes active, k1 stays to verify older tokens.
	s.update(map[string][]byte{"active.pem": pkcs8PEM(t, k2), "previous.pem": publicPEM(t, k1.Public())})
	if changed, err := m.Reload(); !changed || err != nil {
		t.Fatalf("Reload after rotation = %v, %v", changed, err)
	}
	ks := m.Current()
	if ks.Active.ID != id(k2) || len(ks.Keys) != 2 {
		t.Fatalf("after rotation: active %v, keys %v", ks.Active, ks.Keys)
	}
	if k, ok := ks.Lookup(id(k1)); !ok || k.CanSign() {
		t.Errorf("previous key = %v, %v; want verify-only", k, ok)
	}

	// A bad update keeps the last good set, once reported.
	secret := pkcs8PEM(t, k1)
	s.update(map[string][]byte{"active.pem": pkcs8PEM(t, k2), "extra.pem": secret[:len(secret)-40]})
	changed, err := m.Reload()
	if changed || err == nil || !strings.Contains(err.Error(), "extra.pem") {
		t.Fatalf("Reload of bad dir = %v, %v; want error about extra.pem", changed, err)
	}
	if strings.Contains(err.Error(), string(secret[40:80])) {
		t.Errorf("error contains key material: %v", err)
	}
	if m.Current() != ks {
		t.Error("bad reload replaced the key set")
	}
	if changed, err := m.Reload(); changed || err != nil {
		t.Errorf("second Reload of the same bad dir = %v, %v; want no-op", changed, err)
	}

	// Back to a good state, with previous.pem's link still dangling.
	s.update(map[string][]byte{"active.pem": pkcs8PEM(t, k1)})
	if changed, err := m.Reload(); !changed || err != nil {
		t.Fatalf("Reload with dangling links = %v, %v", changed, err)
	}
	if ks := m.Current(); ks.Active.ID != id(k1) || len(ks.Keys) != 1 {
		t.Errorf("after revert: active %v, keys %v", ks.Active, ks.Keys)
	}
	s.cleanup()
	if changed, err := m.Reload(); changed || err != nil {
		t.Errorf("Reload after link cleanup = %v, %v; want no-op", changed, err)
	}
}

// TestWatchDirBackground checks that the watcher goroutine picks up changes
// and logs failures without key material.
func TestWatchDirBackground(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	dir := t.TempDir()
	k1, k2 := newPrivate(t, AlgES256), newPrivate(t, AlgES256)
	writeFile(t, dir, "active.pem", pkcs8PEM(t, k1))

	var logs syncBuffer
	m, err := WatchDir(ctx, dir, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	must(t, err)
	first := m.Current()

	// A broken file: the error is logged, the set kept.
	broken := pkcs8PEM(t, k2)
	broken = broken[:len(broken)/2]
	writeFile(t, dir, "active.pem", append(broken, pkcs8PEM(t, k2)...))
	waitFor(t, func() bool { return strings.Contains(logs.String(), "reload failed") })
	if m.Current() != first {
		t.Error("failed reload replaced the key set")
	}
	body := strings.Split(string(broken), "\n")[1] // a line of base64 key material
	if strings.Contains(logs.String(), body) {
		t.Errorf("log contains key material: %s", logs.String())
	}

	writeFile(t, dir, "active.pem", pkcs8PEM(t, k2))
	waitFor(t, func() bool { return m.Current() != first })
	k, err := NewKey(k2)
	must(t, err)
	if m.Current().Active.ID != k.ID {
		t.Errorf("active = %v, want %v", m.Current().Active, k)
	}
	waitFor(t, func() bool { return strings.Contains(logs.String(), "reloaded") })
}

// A key directory with key files that do not make a key set is refused at
// start: a broken configuration must not look like one still being written.
func TestWatchDirInitialError(t *testing.T) {
	a, b := newPrivate(t, AlgES256), newPrivate(t, AlgEdDSA)
	for name, files := range map[string]map[string][]byte{
		"malformed":             {"active.pem": []byte("junk")},
		"only public keys":      {"a.pem": publicPEM(t, a.Public())},
		"two keys, no active":   {"a.pem": pkcs8PEM(t, a), "b.pem": pkcs8PEM(t, b)},
		"public active.pem":     {"active.pem": publicPEM(t, a.Public()), "b.pem": pkcs8PEM(t, b)},
		"good and bad together": {"active.pem": pkcs8PEM(t, a), "junk.pem": []byte("junk")},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for n, data := range files {
				writeFile(t, dir, n, data)
			}
			m, err := WatchDir(t.Context(), dir, time.Hour, slog.New(slog.DiscardHandler))
			if err == nil || errors.Is(err, ErrNoKeyFiles) {
				t.Fatalf("WatchDir = %v, %v; want an error other than ErrNoKeyFiles", m, err)
			}
		})
	}
}

// A directory without key files (missing, empty, or no *.pem) is waited
// for: the Watcher has no key set and says why, then loads the first
// valid set that appears through the Secret volume's "..data" swap. Key
// files that appear but are refused keep it waiting, with their error.
func TestWatchDirWaitsForKeys(t *testing.T) {
	for name, setup := range map[string]func(t *testing.T) string{
		"missing dir": func(t *testing.T) string { return filepath.Join(t.TempDir(), "keys") },
		"empty dir":   func(t *testing.T) string { return t.TempDir() },
		"no *.pem": func(t *testing.T) string {
			dir := t.TempDir()
			writeFile(t, dir, "README", []byte("keys go here"))
			must(t, os.Mkdir(filepath.Join(dir, "..data"), 0o700))
			return dir
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := setup(t)
			var logs syncBuffer
			m, err := WatchDir(t.Context(), dir, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
			must(t, err)
			if m.Current() != nil {
				t.Fatalf("Current() = %v before any key file", m.Current())
			}
			why := m.Waiting()
			if !errors.Is(why, ErrNoKeyFiles) || !strings.Contains(why.Error(), "no signing key yet in "+dir+": waiting for the manager") {
				t.Fatalf("Waiting() = %v", why)
			}
			if got := strings.Count(logs.String(), "none loaded yet"); got != 1 || !strings.Contains(logs.String(), dir) {
				t.Errorf("%d lines at start saying it waits, want one naming the dir:\n%s", got, logs.String())
			}
			if changed, err := m.Reload(); changed || (err != nil && !errors.Is(err, ErrNoKeyFiles)) {
				t.Fatalf("Reload of a dir still without keys = %v, %v", changed, err)
			}
		})
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := &secretDir{t: t, dir: t.TempDir()}
	var logs syncBuffer
	m, err := WatchDir(ctx, s.dir, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	must(t, err)
	if !errors.Is(m.Waiting(), ErrNoKeyFiles) {
		t.Fatalf("Waiting() = %v", m.Waiting())
	}

	// A malformed first write: still no key set, and the reason says so.
	k := newPrivate(t, AlgES256)
	secret := pkcs8PEM(t, k)
	s.update(map[string][]byte{"active.pem": secret[:len(secret)-40]})
	waitFor(t, func() bool { return strings.Contains(logs.String(), "still waiting") })
	if why := m.Waiting(); m.Current() != nil || why == nil || errors.Is(why, ErrNoKeyFiles) || !strings.Contains(why.Error(), "active.pem") {
		t.Fatalf("after a malformed key file: Current() = %v, Waiting() = %v", m.Current(), why)
	}
	if strings.Contains(logs.String(), string(secret[40:80])) {
		t.Errorf("log contains key material: %s", logs.String())
	}

	s.update(map[string][]byte{"active.pem": secret})
	waitFor(t, func() bool { return m.Current() != nil })
	key, err := NewKey(k)
	must(t, err)
	if m.Current().Active.ID != key.ID || m.Waiting() != nil {
		t.Errorf("loaded %v, Waiting() = %v; want %s and nil", m.Current().Active, m.Waiting(), key.ID)
	}
	waitFor(t, func() bool { return strings.Contains(logs.String(), "no longer waiting") })
}

// While waiting, the Watcher says so once at start and then once a minute
// (one poll in logWaitingEvery), not at every poll.
func TestWatcherLogsWaitingRarely(t *testing.T) {
	var logs syncBuffer
	m := newWatcher(t.TempDir(), time.Second, slog.New(slog.NewTextHandler(&logs, nil)))
	must(t, m.load())
	lines := func() int { return strings.Count(logs.String(), "none loaded yet") }
	if m.logWaitingEvery != 60 || lines() != 1 {
		t.Fatalf("logWaitingEvery = %d, %d lines at start; want 60 and 1", m.logWaitingEvery, lines())
	}
	for range 59 {
		m.poll()
	}
	if lines() != 1 {
		t.Fatalf("%d lines after 59 polls, want 1", lines())
	}
	m.poll()
	if lines() != 2 {
		t.Fatalf("%d lines after 60 polls, want 2", lines())
	}
}

func TestStatic(t *testing.T) {
	ks, err := NewKeySet(newKey(t, AlgES256))
	must(t, err)
	m := Static(ks)
	if m.Current() != ks {
		t.Error("Current() is not the static set")
	}
	if _, ok := m.(*Watcher); ok {
		t.Error("Static returned a Watcher, which a Reload could change")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
