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

package resourceserver

import (
	"net/http"
	"testing"
	"time"
)

func TestRefreshAfter(t *testing.T) {
	const (
		def = 5 * time.Minute
		lo  = time.Minute
		hi  = time.Hour
	)
	for _, tc := range []struct {
		cc, age string
		want    time.Duration
	}{
		{"", "", def},
		{"public", "", def},
		{"public, max-age=600", "", 10 * time.Minute},
		{"max-age=600, public", "", 10 * time.Minute},
		{"Max-Age=600", "", 10 * time.Minute},
		{`max-age="600"`, "", 10 * time.Minute},
		{"max-age=600", "120", 8 * time.Minute},
		{"max-age=600", "900", lo},
		{"max-age=600", "junk", 10 * time.Minute},
		{"max-age=60", "", lo},
		{"max-age=10", "", lo},
		{"max-age=0", "", lo},
		{"max-age=86400", "", hi},
		{"max-age=99999999999999999999", "", hi},
		{"max-age=-5", "", lo},
		{"max-age=", "", lo},
		{"max-age=1e3", "", lo},
		{"no-cache", "", lo},
		{"no-store, max-age=600", "", lo},
		{"max-age=600, no-store", "", lo},
		{"s-maxage=600", "", def},
	} {
		h := http.Header{}
		if tc.cc != "" {
			h.Set("Cache-Control", tc.cc)
		}
		if tc.age != "" {
			h.Set("Age", tc.age)
		}
		if got := refreshAfter(h, def, lo, hi); got != tc.want {
			t.Errorf("Cache-Control %q Age %q: %v, want %v", tc.cc, tc.age, got, tc.want)
		}
	}
}

func TestMetadataURL(t *testing.T) {
	for issuer, want := range map[string]string{
		"https://auth.example.test":      "https://auth.example.test/.well-known/oauth-authorization-server",
		"https://auth.example.test/":     "https://auth.example.test/.well-known/oauth-authorization-server",
		"https://auth.example.test:8443": "https://auth.example.test:8443/.well-known/oauth-authorization-server",
		"https://example.test/tenant1":   "https://example.test/.well-known/oauth-authorization-server/tenant1",
		"https://example.test/tenant1/":  "https://example.test/.well-known/oauth-authorization-server/tenant1",
		"http://authstack.auth.svc:8080": "http://authstack.auth.svc:8080/.well-known/oauth-authorization-server",
		"https://example.test/a%2Fb":     "https://example.test/.well-known/oauth-authorization-server/a%2Fb",
	} {
		if got := metadataURL(issuer); got != want {
			t.Errorf("metadataURL(%q) = %q, want %q", issuer, got, want)
		}
	}
}

func TestNextBackoff(t *testing.T) {
	r := &RemoteKeys{opts: RemoteKeysOptions{MinRefreshInterval: time.Minute}}
	var got []time.Duration
	var d time.Duration
	for range 8 {
		d = r.nextBackoff(d)
		got = append(got, d)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("backoff without keys %v, want %v s", got, want)
		}
	}
}
