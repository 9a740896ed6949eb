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

package clientip

import (
	"net/http/httptest"
	"testing"
)

func TestClientIP(t *testing.T) {
	r, err := New([]string{"10.0.0.0/8", "192.168.1.1", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	none, _ := New(nil)
	cases := []struct {
		name   string
		res    *Resolver
		remote string
		xff    []string
		want   string
	}{
		{"no proxies configured ignores XFF", none, "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9"},
		{"untrusted peer ignores XFF", r, "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9"},
		{"trusted peer uses XFF", r, "10.1.2.3:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"spoofed left entries ignored", r, "10.1.2.3:5000", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"chain of trusted proxies", r, "10.1.2.3:5000", []string{"198.51.100.7, 192.168.1.1, 10.9.9.9"}, "198.51.100.7"},
		{"multiple headers", r, "10.1.2.3:5000", []string{"6.6.6.6", "198.51.100.7, 10.2.2.2"}, "198.51.100.7"},
		{"all hops trusted gives the leftmost", r, "10.1.2.3:5000", []string{"10.5.5.5"}, "10.5.5.5"},
		{"malformed entry stops at last good", r, "10.1.2.3:5000", []string{"198.51.100.7, garbage"}, "10.1.2.3"},
		{"ipv6 and mapped", r, "[fd00::1]:443", []string{"::ffff:198.51.100.8"}, "198.51.100.8"},
		{"no XFF from trusted peer", r, "10.1.2.3:5000", nil, "10.1.2.3"},
		{"entry with a port", r, "10.1.2.3:5000", []string{"198.51.100.7:4711"}, "198.51.100.7"},
		{"ipv6 entry with a port", r, "10.1.2.3:5000", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/token", nil)
			req.RemoteAddr = c.remote
			for _, v := range c.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := c.res.ClientIP(req).String(); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestNewRejectsGarbage(t *testing.T) {
	if _, err := New([]string{"not-an-ip"}); err == nil {
		t.Fatal("expected an error")
	}
	if _, err := New([]string{"10.0.0.0/99"}); err == nil {
		t.Fatal("expected an error")
	}
}

func TestIgnoresForwardedFor(t *testing.T) {
	r, _ := New([]string{"10.0.0.0/8"})
	for _, c := range []struct {
		remote, xff string
		want        bool
	}{
		{"10.1.1.1:1", "198.51.100.1", false},
		{"203.0.113.1:1", "198.51.100.1", true},
		{"203.0.113.1:1", "", false},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		req.RemoteAddr = c.remote
		if c.xff != "" {
			req.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := r.IgnoresForwardedFor(req); got != c.want {
			t.Errorf("%s with %q: %v", c.remote, c.xff, got)
		}
	}
}
