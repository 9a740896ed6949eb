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
	"log/slog"
	"testing"

	"github.com/authstack/authstack/controllers/signingkeys"
)

func TestResolveKeysNamespace(t *testing.T) {
	for _, c := range []struct {
		name, secret, flagNS, env string
		explicit                  bool
		wantName, wantNS          string
		wantErr                   bool
	}{
		{"flag", "keys", "auth", "pod-ns", false, "keys", "auth", false},
		{"pod namespace", "keys", "", "pod-ns", false, "keys", "pod-ns", false},
		{"default secret, no namespace: off", "authstack-signing-keys", "", "", false, "", "", false},
		{"explicit secret, no namespace: error", "keys", "", "", true, "", "", true},
		{"disabled", "", "", "", true, "", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("POD_NAMESPACE", c.env)
			o := &managerOptions{signingKeys: signingkeys.Options{Name: c.secret, Namespace: c.flagNS}, signingKeysSet: c.explicit}
			err := resolveKeysNamespace(o, slog.New(slog.DiscardHandler))
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err == nil && (o.signingKeys.Name != c.wantName || o.signingKeys.Namespace != c.wantNS) {
				t.Fatalf("secret %s/%s, want %s/%s", o.signingKeys.Namespace, o.signingKeys.Name, c.wantNS, c.wantName)
			}
		})
	}
}
