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

package kubecredential

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Key names one login: the issuer, the client, the username and the
// scopes asked for. Each has a cache file of its own, so that a token of
// other scopes is never handed out for it.
type Key struct {
	Issuer   string
	ClientID string
	Username string
	// Scope is the scopes asked for, space-separated (see ScopeKey); empty
	// asks for the client's default.
	Scope string
}

// ScopeKey is the Key.Scope of scopes: sorted, without duplicates, so
// that the order they are given in does not make another login.
func ScopeKey(scopes []string) string {
	s := slices.Clone(scopes)
	slices.Sort(s)
	return strings.Join(slices.Compact(s), " ")
}

// Entry is what the cache holds for a login: never the password.
type Entry struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	// Expiry is when the access token is no longer handed out: its expiry
	// less a margin.
	Expiry time.Time `json:"expiry"`
}

// Cache is the token cache: one file per Key in Dir, mode 0600 in a
// 0700 directory, replaced atomically.
type Cache struct {
	Dir string
}

// DefaultCacheDir is where kubectl keeps its caches, with a subdirectory
// of authstack's own: $KUBECACHEDIR, else ~/.kube/cache, then /authstack.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("KUBECACHEDIR"); d != "" {
		return filepath.Join(d, "authstack"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: set KUBECACHEDIR or HOME: %w", err)
	}
	return filepath.Join(home, ".kube", "cache", "authstack"), nil
}

// Path is the file of k: a hash of its names, so that none of them needs
// escaping and the names are not spelled out in the file system. A login
// without scopes keeps the path it had before scopes were part of the key.
func (c *Cache) Path(k Key) string {
	h := sha256.New()
	names := []string{k.Issuer, k.ClientID, k.Username}
	if k.Scope != "" {
		names = append(names, k.Scope)
	}
	for _, s := range names {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return filepath.Join(c.Dir, hex.EncodeToString(h.Sum(nil))+".json")
}

// Load returns k's entry, or nil when there is none.
func (c *Cache) Load(k Key) (*Entry, error) {
	b, err := os.ReadFile(c.Path(k))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the token cache: %w", err)
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil {
		// A damaged file is as good as none: the login starts over.
		return nil, nil
	}
	return &e, nil
}

// Save writes k's entry: a temporary file in the same directory, renamed
// over the old one, so that a reader sees the old entry or the new.
func (c *Cache) Save(k Key, e *Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := c.ensureDir(); err != nil {
		return err
	}
	tmp, err := writeTemp(c.Dir, b)
	if err != nil {
		return fmt.Errorf("write the token cache: %w", err)
	}
	if err := os.Rename(tmp, c.Path(k)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write the token cache: %w", err)
	}
	return nil
}

// writeTemp writes b to a new file of mode 0600 in dir, synced, and
// returns its name.
func writeTemp(dir string, b []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	// CreateTemp makes the file 0600; Chmod states it whatever the umask.
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(b)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// Lock holds k's entry for one process until unlock: kubectl may run
// the plugin several times at once, and two refreshes with one refresh
// token would look like its theft to the server, which would end the
// session. The lock file stays, empty.
func (c *Cache) Lock(k Key) (unlock func(), err error) {
	if err := c.ensureDir(); err != nil {
		return nil, err
	}
	return lockFile(strings.TrimSuffix(c.Path(k), ".json") + ".lock")
}

// Remove deletes k's entry; removed is false when there was none.
func (c *Cache) Remove(k Key) (removed bool, err error) {
	err = os.Remove(c.Path(k))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remove the token cache: %w", err)
	}
	return true, nil
}

// ensureDir creates the cache directory 0700, and narrows it to 0700
// should it exist wider.
func (c *Cache) ensureDir() error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("create the token cache directory: %w", err)
	}
	if err := os.Chmod(c.Dir, 0o700); err != nil {
		return fmt.Errorf("create the token cache directory: %w", err)
	}
	return nil
}
