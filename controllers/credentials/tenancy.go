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

package credentials

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
)

// nameKind is what a TenancyPolicy pattern list is about.
type nameKind int

const (
	kindUsername nameKind = iota
	kindClientID
	kindGroup
	kindAudience
	kindScope
	kindServiceAccountNamespace
)

func (k nameKind) String() string {
	return [...]string{"username", "client ID", "group", "audience", "scope", "ServiceAccount namespace"}[k]
}

// patterns returns the policy's patterns of kind k.
func patterns(p *v1alpha1.TenancyPolicy, k nameKind) []string {
	switch k {
	case kindUsername:
		return p.Spec.Usernames
	case kindClientID:
		return p.Spec.ClientIDs
	case kindGroup:
		return p.Spec.Groups
	case kindAudience:
		return p.Spec.Audiences
	case kindServiceAccountNamespace:
		return p.Spec.ServiceAccountNamespaces
	}
	return p.Spec.Scopes
}

// namespaceInfo is what selecting a namespace needs of it.
type namespaceInfo struct {
	name   string
	labels map[string]string
}

// selects reports whether p applies to ns. A malformed selector selects
// nothing (the CRD's schema makes one unlikely).
func selects(p *v1alpha1.TenancyPolicy, ns namespaceInfo) bool {
	if slices.Contains(p.Spec.Namespaces.Names, ns.name) {
		return true
	}
	if p.Spec.Namespaces.Selector == nil {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.Namespaces.Selector)
	return err == nil && sel.Matches(labels.Set(ns.labels))
}

// matchGlob reports whether s matches pattern, in which "*" matches any
// run of characters (none included) and every other character itself.
func matchGlob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// bestMatch returns the specificity (the characters other than "*") of the
// most specific of pats that matches value, compared case-insensitively, or
// -1 when none does.
func bestMatch(pats []string, value string) int {
	value = strings.ToLower(value)
	best := -1
	for _, p := range pats {
		if p = strings.ToLower(p); matchGlob(p, value) {
			best = max(best, len(p)-strings.Count(p, "*"))
		}
	}
	return best
}

// tenancyAllows decides whether namespace ns may use value (a username,
// client ID, group, audience, scope, or the namespace of another's
// ServiceAccount) under the policies: a pure function, table-tested.
//
//   - No policy at all: yes (a single-team cluster).
//   - ns selected by one or more policies: only if one of them matches
//     value, at least as specifically as any policy that does not select
//     ns (so a broad "*" does not reach what another tenant's pattern
//     reserves; equal patterns share).
//   - ns selected by none: only if no policy matches value, since what a
//     policy matches is reserved for the namespaces it selects.
//
// Except for another namespace's ServiceAccount, which is never shared by
// default: only a policy that selects ns and lists it lets ns name it (no
// policy at all, or none selecting ns: no).
func tenancyAllows(policies []v1alpha1.TenancyPolicy, ns namespaceInfo, k nameKind, value string) bool {
	selected := false
	in, out := -1, -1
	for i := range policies {
		p := &policies[i]
		m := bestMatch(patterns(p, k), value)
		if selects(p, ns) {
			selected = true
			in = max(in, m)
		} else {
			out = max(out, m)
		}
	}
	if selected {
		return in >= 0 && in >= out
	}
	// Another namespace's ServiceAccount is that namespace's, not a name
	// to share: only a policy that selects ns and lists it lets ns use it,
	// even where no policy exists at all.
	return k != kindServiceAccountNamespace && out < 0
}

// tenancy reads the policies and the namespaces they select, from the
// manager's cache.
type tenancy struct {
	reader client.Reader
}

// uses is what an object uses of one kind.
type uses struct {
	kind   nameKind
	values []string
}

// check refuses, with a NotAllowed outcome, the first value an object uses
// that the policies do not let its namespace use.
func (t tenancy) check(ctx context.Context, namespace string, all ...uses) error {
	var list v1alpha1.TenancyPolicyList
	if err := t.reader.List(ctx, &list); err != nil {
		return fmt.Errorf("list tenancy policies: %w", err)
	}
	if len(list.Items) == 0 && !slices.ContainsFunc(all, func(u uses) bool { return u.kind == kindServiceAccountNamespace }) {
		return nil
	}
	ns, err := t.namespace(ctx, namespace)
	if err != nil {
		return err
	}
	for _, u := range all {
		for _, v := range u.values {
			if !tenancyAllows(list.Items, ns, u.kind, v) {
				return failed(v1alpha1.ReasonNotAllowed, "the tenancy policies do not let namespace %q use the %s %q", namespace, u.kind, v)
			}
		}
	}
	return nil
}

// namespace returns the name and labels of a namespace, from the cached
// metadata.
func (t tenancy) namespace(ctx context.Context, name string) (namespaceInfo, error) {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := t.reader.Get(ctx, types.NamespacedName{Name: name}, m); err != nil {
		return namespaceInfo{}, fmt.Errorf("get namespace %q: %w", name, err)
	}
	return namespaceInfo{name: name, labels: m.Labels}, nil
}
