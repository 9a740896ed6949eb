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
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestLoadDir(t *testing.T) {
	a, b := newPrivate(t, AlgES256), newPrivate(t, AlgEdDSA)
	ka, err := NewKey(a)
	must(t, err)
	kb, err := NewKey(b)
	must(t, err)

	for _, tc := range []struct {
		name    string
		files   map[string][]byte
		active  *Key
		keys    int
		wantErr string
	}{
		{
			name:   "active.pem chooses",
			files:  map[string][]byte{"active.pem": pkcs8PEM(t, a), "previous.pem": pkcs8PEM(t, b)},
			active: ka, keys: 2,
		},
		{
			name:   "single private key",
			files:  map[string][]byte{"key.pem": pkcs8PEM(t, b), "old.pem": publicPEM(t, a.Public())},
			active: kb, keys: 2,
		},
		{
			name:   "copies merge",
			files:  map[string][]byte{"one.pem": pkcs8PEM(t, a), "two.pem": pkcs8PEM(t, a), "pub.pem": publicPEM(t, a.Public())},
			active: ka, keys: 1,
		},
		{
			name: "ignored names",
			files: map[string][]byte{
				"active.pem": pkcs8PEM(t, a), ".hidden.pem": pkcs8PEM(t, b),
				"b.key": pkcs8PEM(t, b), "README": []byte("not a key"),
			},
			active: ka, keys: 1,
		},
		{
			name:    "two private keys without active.pem",
			files:   map[string][]byte{"a.pem": pkcs8PEM(t, a), "b.pem": pkcs8PEM(t, b)},
			wantErr: "2 private keys and no active.pem",
		},
		{
			name:    "only public keys",
			files:   map[string][]byte{"a.pem": publicPEM(t, a.Public())},
			wantErr: "no private key",
		},
		{
			name:    "empty dir",
			files:   map[string][]byte{},
			wantErr: "no private key",
		},
		{
			name:    "active.pem holds two keys",
			files:   map[string][]byte{"active.pem": append(pkcs8PEM(t, a), pkcs8PEM(t, b)...)},
			wantErr: "active.pem: holds 2 keys",
		},
		{
			name:    "active.pem holds a public key",
			files:   map[string][]byte{"active.pem": publicPEM(t, a.Public()), "b.pem": pkcs8PEM(t, b)},
			wantErr: "active.pem: holds a public key",
		},
		{
			name:    "bad file",
			files:   map[string][]byte{"active.pem": pkcs8PEM(t, a), "junk.pem": []byte("junk")},
			wantErr: "junk.pem: no key found",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, data := range tc.files {
				writeFile(t, dir, name, data)
			}
			ks, err := LoadDir(dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadDir error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			must(t, err)
			if ks.Active.ID != tc.active.ID || !ks.Active.CanSign() || len(ks.Keys) != tc.keys {
				t.Errorf("Active = %v, Keys = %v; want %v and %d keys", ks.Active, ks.Keys, tc.active, tc.keys)
			}
		})
	}

	t.Run("missing dir", func(t *testing.T) {
		if _, err := LoadDir(filepath.Join(t.TempDir(), "nope")); err == nil {
			t.Error("LoadDir of a missing dir succeeded")
		}
	})
	t.Run("symlinks and non-regular files", func(t *testing.T) {
		dir, elsewhere := t.TempDir(), t.TempDir()
		writeFile(t, elsewhere, "real", pkcs8PEM(t, a))
		must(t, os.Symlink(filepath.Join(elsewhere, "real"), filepath.Join(dir, "active.pem")))
		must(t, os.Mkdir(filepath.Join(dir, "subdir.pem"), 0o700))
		must(t, syscall.Mkfifo(filepath.Join(dir, "fifo.pem"), 0o600)) // must not block
		ks, err := LoadDir(dir)
		must(t, err)
		if ks.Active.ID != ka.ID || len(ks.Keys) != 1 {
			t.Errorf("Active = %v, Keys = %v", ks.Active, ks.Keys)
		}
	})
}
