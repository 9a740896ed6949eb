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

package authserver

import "testing"

func TestCanonicalIssuer(t *testing.T) {
	for raw, want := range map[string]string{
		"https://auth.example.com":       "https://auth.example.com",
		"https://auth.example.com/":      "https://auth.example.com",
		"HTTPS://Auth.Example.COM":       "https://auth.example.com",
		"https://auth.example.com:8443/": "https://auth.example.com:8443",
		"http://127.0.0.1:8080":          "http://127.0.0.1:8080",
		"https://[::1]:8443":             "https://[::1]:8443",
		"https://Auth.Example.com/auth":  "https://auth.example.com/auth",
		"https://auth.example.com/auth/": "https://auth.example.com/auth",
		"https://auth.example.com/a/B-c": "https://auth.example.com/a/B-c",
	} {
		got, err := CanonicalIssuer(raw, true)
		if err != nil || got != want {
			t.Errorf("CanonicalIssuer(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{
		"", "auth.example.com", "https://", "https://auth.example.com?", "https://auth.example.com/?",
		"https://auth.example.com#", "https://auth.example.com/#x", "https://auth.example.com?a=b",
		"https://auth.example.com//", "https://auth.example.com/a//b", "https://auth.example.com/a/../b",
		"https://auth.example.com/a/./b", "https://auth.example.com/auth//", "https://auth.example.com/a%20b",
		"https://auth.example.com/a b", "https://auth.example.com/a;b", "https://auth.example.com/a/.", "https://user:pw@auth.example.com",
		"ftp://auth.example.com", "https:auth.example.com", "https://auth.example.com/%2F",
	} {
		if got, err := CanonicalIssuer(raw, true); err == nil {
			t.Errorf("CanonicalIssuer(%q) = %q, want an error", raw, got)
		}
	}
	if _, err := CanonicalIssuer("http://auth.example.com", false); err == nil {
		t.Error("http issuer accepted without AllowHTTPIssuer")
	}
}
