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

// Package sdk checks the promise docs/resource-servers.md makes: a service
// in a module of its own can use the SDK (resourceserver,
// resourceserver/accesstoken, and resourceserver/tokensource for its own
// tokens) with nothing but the SDK's own names and x/oauth2's, and
// building it pulls in nothing of the token server, the manager or the
// binary.
package sdk

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// service uses every part of the SDK a service needs, by the SDK's names
// only: the middleware and its options, the claims, the authenticator's
// error and its writer, the key source types, the revocation mirror, and
// a token source for calling other services.
const service = `package main

import (
	"context"
	"errors"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/authstack/authstack/resourceserver"
	"github.com/authstack/authstack/resourceserver/accesstoken"
	"github.com/authstack/authstack/resourceserver/tokensource"
)

func main() {
	ctx := context.Background()
	rev, err := resourceserver.NewRevocations(ctx, resourceserver.RedisOptions{URL: "redis://127.0.0.1:6379"})
	if err != nil {
		panic(err)
	}
	defer rev.Close()
	var keys resourceserver.KeySource = resourceserver.StaticKeys(nil)
	m, err := resourceserver.New(resourceserver.Options{
		Issuer: "https://auth.example.com", Audiences: []string{"https://api.example.com"},
		Keys: keys, Revocation: rev,
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	api := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var c *accesstoken.Claims
		c, _ = resourceserver.ClaimsFromContext(r.Context())
		_ = c.HasScope("read")
	}))
	admin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := m.Authenticate(r); err != nil {
			var e *resourceserver.Error
			if errors.As(err, &e) && e.Status == http.StatusServiceUnavailable {
				w.Header().Set("X-Retry", "1")
			}
			resourceserver.WriteError(w, err)
		}
	})
	_, _ = api, admin
	_, _, _ = resourceserver.ParseJWKS([]byte("{}"))
	_ = resourceserver.MaxJWKSBytes
	src, err := tokensource.Config{TokenURL: "https://auth.example.com/token", ClientID: "billing"}.
		ServiceAccountToken(ctx, tokensource.DefaultServiceAccountTokenPath)
	if err != nil {
		panic(err)
	}
	_ = oauth2.NewClient(ctx, src)
}
`

func TestTheSDKBuildsInAModuleOfItsOwn(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/service\n\ngo 1.26\n\nrequire github.com/authstack/authstack v0.0.0\n\nreplace github.com/authstack/authstack => "+root+"\n")
	write("main.go", service)
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	goCmd("mod", "tidy")
	goCmd("vet", "./...")
	for _, pkg := range strings.Fields(goCmd("list", "-deps", "./...")) {
		for _, forbidden := range []string{"/authserver", "/controllers", "/cmd", "/internal/testing", "sigs.k8s.io/controller-runtime", "k8s.io/client-go"} {
			if strings.HasPrefix(pkg, "github.com/authstack/authstack"+forbidden) || strings.HasPrefix(pkg, forbidden) {
				t.Errorf("the SDK pulls in %s", pkg)
			}
		}
	}
}
