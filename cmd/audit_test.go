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

package cmd

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// --audit-log sends the audit trail to a file: alice's login and a wrong
// guess of her password land there, marked, without the password; the
// operational log does not get them. A destination that cannot be opened
// stops the server at start.
func TestAuditLogFlag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	issuer, curl := runDev(t, "-f", "../config/samples/", "--argon2-memory", "1024", "--hash-cost-factor", "0", "--audit-log", path)
	m := regexp.MustCompile(`'password=([^']*)'`).FindStringSubmatch(curl)
	if m == nil {
		t.Fatalf("no password in %q", curl)
	}
	password := m[1]
	for _, pw := range []string{"wrong-guess-1234", password} {
		resp, err := http.PostForm(issuer+"/token", url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	trail := string(b)
	for _, want := range []string{
		`"logger":"audit","event":"refusal","outcome":"invalid_grant","endpoint":"token","grant_type":"password","username":"alice"`,
		`"logger":"audit","event":"login","outcome":"success","endpoint":"token","grant_type":"password","username":"alice"`,
	} {
		if !strings.Contains(trail, want) {
			t.Errorf("the audit log lacks %s:\n%s", want, trail)
		}
	}
	if strings.Contains(trail, "wrong-guess-1234") || strings.Contains(trail, password) {
		t.Errorf("the audit log holds a password:\n%s", trail)
	}

	root := NewRoot()
	root.SetArgs([]string{"dev", "-f", "../config/samples", "--addr", "127.0.0.1:0", "--metrics-addr", "",
		"--audit-log", filepath.Join(t.TempDir(), "no-such-dir", "audit.log")})
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // should it start, it runs until this ends
	defer cancel()
	if err := root.ExecuteContext(ctx); err == nil || !strings.Contains(err.Error(), "audit log") {
		t.Fatalf("an audit log that cannot be opened: err = %v", err)
	}
}

// The summary of the refusals left out of the audit trail is written when
// the server stops, before the command returns and closes the file: the
// last period's count is not lost at shutdown.
func TestAuditLogSummaryAtShutdown(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	const refusals = 12 // a burst of 10 written, 2 left out
	t.Run("serve", func(t *testing.T) {
		issuer, _ := runDev(t, "-f", "../config/samples/", "--argon2-memory", "1024", "--hash-cost-factor", "0", "--audit-log", path)
		for range refusals {
			resp, err := http.PostForm(issuer+"/token", url.Values{"grant_type": {"no-such-grant"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
	}) // runDev's cleanup stops the server and waits for the command
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"msg":"Refusals suppressed"`) || !strings.Contains(string(b), `"suppressed":2`) {
		t.Fatalf("no summary of the 2 refusals left out in the audit log after shutdown:\n%s", b)
	}
}
