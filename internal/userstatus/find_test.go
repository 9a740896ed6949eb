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

package userstatus

import (
	"context"
	"fmt"
	"os"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/testing/testenv"
)

// kube is the API server of Find's test (cmd's tests run the command
// against one in every state).
var kube testenv.Lazy

func TestMain(m *testing.M) {
	code := m.Run()
	kube.Stop()
	os.Exit(code)
}

// Find reads every page of a namespace's AuthUsers and of a cluster-wide
// list: a claimant on the last page is found.
func TestFindReadsEveryPage(t *testing.T) {
	e := kube.Get(t)
	ns := e.Namespace(t)
	defer func(n int64) { pageSize = n }(pageSize)
	pageSize = 2
	for i := range 5 {
		u := &v1alpha1.AuthUser{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("page-%d", i), Namespace: ns},
			Spec: v1alpha1.AuthUserSpec{PasswordSecretRef: &v1alpha1.PasswordSecretRef{Name: "password"}}}
		if err := e.Client.Create(context.Background(), u); err != nil {
			t.Fatal(err)
		}
	}
	for _, scope := range []Scope{{Namespace: ns}, {AllNamespaces: true}} {
		f, err := Find(context.Background(), e.Client, "PAGE-4", scope)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Claimants) != 1 || f.Claimants[0].Name != "page-4" || f.Claimants[0].Namespace != ns {
			t.Errorf("%+v: claimants %v, want %s/page-4 (the last page)", scope, f.Claimants, ns)
		}
	}
}
