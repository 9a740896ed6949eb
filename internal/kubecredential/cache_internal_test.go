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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Each (issuer, client, username) has a file of its own; the names are
// not spelled out in it.
func TestCachePathPerLogin(t *testing.T) {
	c := &Cache{Dir: "/cache"}
	k := Key{Issuer: "https://a", ClientID: "kubectl", Username: "alice"}
	seen := map[string]Key{}
	for _, other := range []Key{
		k,
		{Issuer: "https://b", ClientID: "kubectl", Username: "alice"},
		{Issuer: "https://a", ClientID: "other", Username: "alice"},
		{Issuer: "https://a", ClientID: "kubectl", Username: "bob"},
		// The separator keeps the fields apart.
		{Issuer: "https://a", ClientID: "kubectlalice", Username: ""},
		// Other scopes are another login: a token of other scopes is
		// never handed out for it.
		{Issuer: "https://a", ClientID: "kubectl", Username: "alice", Scope: "read"},
		{Issuer: "https://a", ClientID: "kubectl", Username: "alice", Scope: "read write"},
	} {
		p := c.Path(other)
		if prev, ok := seen[p]; ok {
			t.Errorf("%+v and %+v share %s", prev, other, p)
		}
		seen[p] = other
		if strings.Contains(p, "alice") || filepath.Dir(p) != "/cache" {
			t.Errorf("path %s", p)
		}
	}
	if (&Cache{Dir: "/cache"}).Path(k) != c.Path(k) {
		t.Error("the path is not stable")
	}
	if ScopeKey([]string{"write", "read", "write"}) != "read write" || ScopeKey(nil) != "" {
		t.Errorf("ScopeKey: %q", ScopeKey([]string{"write", "read", "write"}))
	}
}

func TestCacheSaveLoadRemove(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "authstack")
	// An existing directory open to others is narrowed.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := &Cache{Dir: dir}
	k := Key{Issuer: "https://a", ClientID: "kubectl", Username: "alice"}
	if e, err := c.Load(k); e != nil || err != nil {
		t.Fatalf("empty cache: %v, %v", e, err)
	}
	want := &Entry{AccessToken: "at", RefreshToken: "rt", Expiry: time.Unix(1700000000, 0).UTC()}
	for range 2 { // the second save replaces the first
		if err := c.Save(k, want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.Load(k)
	if err != nil || got == nil || *got != *want {
		t.Fatalf("load: %+v, %v", got, err)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files, want the one (no temporary file left)", len(entries))
	}
	if removed, err := c.Remove(k); !removed || err != nil {
		t.Errorf("remove: %v, %v", removed, err)
	}
	if removed, err := c.Remove(k); removed || err != nil {
		t.Errorf("remove again: %v, %v", removed, err)
	}
}

// A damaged cache file is as good as none: the login starts over.
func TestCacheDamagedFile(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	k := Key{Issuer: "https://a", ClientID: "kubectl", Username: "alice"}
	if err := os.WriteFile(c.Path(k), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if e, err := c.Load(k); e != nil || err != nil {
		t.Errorf("damaged: %v, %v", e, err)
	}
}

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("KUBECACHEDIR", "/var/kube-cache")
	if d, _ := DefaultCacheDir(); d != "/var/kube-cache/authstack" {
		t.Errorf("with KUBECACHEDIR: %s", d)
	}
	t.Setenv("KUBECACHEDIR", "")
	t.Setenv("HOME", "/home/alice")
	if d, _ := DefaultCacheDir(); d != "/home/alice/.kube/cache/authstack" {
		t.Errorf("without: %s", d)
	}
}

func TestEntryGood(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for _, tc := range []struct {
		e    *Entry
		want bool
	}{
		{nil, false},
		{&Entry{AccessToken: "at", Expiry: now.Add(time.Second)}, true},
		{&Entry{AccessToken: "at", Expiry: now}, false},
		{&Entry{AccessToken: "at"}, false},
		{&Entry{Expiry: now.Add(time.Hour)}, false},
	} {
		if got := tc.e.good(now); got != tc.want {
			t.Errorf("%+v: good = %v", tc.e, got)
		}
	}
}

// The prompt goes to w, the line is read from in (a pipe here: the no-echo
// read is x/term's, on a terminal only).
func TestReadPassword(t *testing.T) {
	var w strings.Builder
	pw, err := ReadPassword(&w, strings.NewReader("s3cret\r\nrest"), "Password: ")
	if err != nil || pw != "s3cret" || w.String() != "Password: \n" {
		t.Errorf("%q, %v, prompt %q", pw, err, w.String())
	}
	if pw, err := ReadPassword(&w, strings.NewReader("no-newline"), ""); pw != "no-newline" || err != nil {
		t.Errorf("%q, %v", pw, err)
	}
	if _, err := ReadPassword(&w, strings.NewReader("\n"), ""); err == nil || err.Error() != "no password given" {
		t.Errorf("empty: %v", err)
	}
	if _, err := ReadPassword(&w, strings.NewReader(""), ""); err == nil {
		t.Error("EOF: no error")
	}
}

func TestPasswordSource(t *testing.T) {
	t.Setenv(PasswordEnv, "from-env")
	if pw, err := PasswordSource(false, nil, "")(); pw != "from-env" || err != nil {
		t.Errorf("env: %q, %v", pw, err)
	}
	t.Setenv(PasswordEnv, "")
	_, err := PasswordSource(false, nil, "")()
	if err == nil || !strings.Contains(err.Error(), "set AUTHSTACK_PASSWORD") {
		t.Errorf("not interactive: %v", err)
	}
}
