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

package resourceserver_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/resourceserver"
)

// What Authenticate refuses with can be named and written with the SDK's
// own names, as a service outside this module must: *resourceserver.Error
// and resourceserver.WriteError, over keys given as a KeySource.
func TestTheSDKNamesItsErrorsAndKeys(t *testing.T) {
	ks, skipped, err := resourceserver.ParseJWKS(authtest.KeySet(t, signer.AlgES256).JWKS())
	if err != nil || len(skipped) != 0 {
		t.Fatalf("ParseJWKS: %v %v", skipped, err)
	}
	m, err := resourceserver.New(resourceserver.Options{
		Issuer: "https://auth.example.test", Audiences: []string{"https://api.example.test"},
		Keys: resourceserver.StaticKeys(ks),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
	var e *resourceserver.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized {
		t.Fatalf("without a token: %v", err)
	}
	rec := httptest.NewRecorder()
	resourceserver.WriteError(rec, err)
	if rec.Code != http.StatusUnauthorized || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("written: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}
