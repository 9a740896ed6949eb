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

package credentials_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/controllers/credentials"
)

// authstack_authusers counts AuthUsers by Ready state, read from the API.
func TestStateMetrics(t *testing.T) {
	s := newStack(t)
	s.secret("alice-password", map[string]string{"password": alicePW})
	s.ready(s.user("alice"), v1alpha1.ReasonSynced)
	s.ready(s.user("nosecret"), v1alpha1.ReasonSecretNotFound)
	got, err := testutil.CollectAndFormat(credentials.NewStateCollector(namespaced{s.ns}), expfmt.TypeTextPlain, "authstack_authusers")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`authstack_authusers{ready="True",reason="Synced"} 1`,
		`authstack_authusers{ready="False",reason="SecretNotFound"} 1`,
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("metrics lack %s:\n%s", want, got)
		}
	}
}

// namespaced reads through the test API client, listing one namespace: the
// shared API server holds other tests' objects too.
type namespaced struct{ ns string }

func (n namespaced) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return env.Client.Get(ctx, key, obj, opts...)
}

func (n namespaced) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return env.Client.List(ctx, list, append(opts, client.InNamespace(n.ns))...)
}
