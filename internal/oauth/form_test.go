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

package oauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseForm(t *testing.T) {
	cases := []struct {
		name, url, ctype, body string
		status                 int
	}{
		{"ok", "/token", "application/x-www-form-urlencoded", "a=1", 200},
		{"charset parameter", "/token", "application/x-www-form-urlencoded; charset=UTF-8", "a=1", 200},
		{"json", "/token", "application/json", "{}", 400},
		{"repeated", "/token", "application/x-www-form-urlencoded", "a=1&a=1", 400},
		{"password in query", "/token?password=x", "application/x-www-form-urlencoded", "a=1", 400},
		{"harmless query kept", "/token?tenant=x", "application/x-www-form-urlencoded", "a=1", 200},
		{"too large", "/token", "application/x-www-form-urlencoded", "a=" + strings.Repeat("x", MaxFormBytes), 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, c.url, strings.NewReader(c.body))
			r.Header.Set("Content-Type", c.ctype)
			f, err := ParseForm(httptest.NewRecorder(), r)
			status := 200
			if err != nil {
				status = As(err).Status
			}
			if status != c.status {
				t.Fatalf("status %d, want %d (%v)", status, c.status, err)
			}
			if err == nil && f.Get("a") != "1" {
				t.Fatalf("form %v", f)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, TooManyRequests("too many requests; retry later", 1500*1e6))
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("%d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	rec = httptest.NewRecorder()
	WriteError(rec, errString("boom: secret internals"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret internals") {
		t.Fatalf("an internal error leaked: %d %s", rec.Code, rec.Body)
	}
	ch := BearerChallenge(CodeInvalidToken, "bad \"quote\"\n").WWWAuthenticate
	if ch != `Bearer realm="authstack", error="invalid_token", error_description="bad quote"` {
		t.Fatalf("challenge %q", ch)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
