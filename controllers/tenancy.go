package controllers

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
)

func (k nameKind) String() string {
	return [...]string{"username", "client ID", "group"}[k]
}

// patterns returns the policy's patterns of kind k.
func patterns(p *v1alpha1.TenancyPolicy, k nameKind) []string {
	switch k {
	case kindUsername:
		return p.Spec.Usernames
	case kindClientID:
		return p.Spec.ClientIDs
	}
	return p.Spec.Groups
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

// matchAny reports whether value matches one of the patterns; names are
// compared in canonical form, groups as they are.
func matchAny(pats []string, k nameKind, value string) bool {
	return slices.ContainsFunc(pats, func(p string) bool {
		if k != kindGroup {
			p = v1alpha1.CanonicalName(p)
		}
		return matchGlob(p, value)
	})
}

// tenancyAllows decides whether namespace ns may use value (a canonical
// username or client ID, or a group) under the policies: a pure function,
// table-tested.
//
//   - No policy at all: yes (a single-team cluster).
//   - ns selected by one or more policies: only if one of them allows it.
//   - ns selected by none: only if no policy's patterns match it, since a
//     name a policy matches is reserved for the namespaces it selects.
func tenancyAllows(policies []v1alpha1.TenancyPolicy, ns namespaceInfo, k nameKind, value string) bool {
	selected := false
	for i := range policies {
		p := &policies[i]
		if !selects(p, ns) {
			continue
		}
		selected = true
		if matchAny(patterns(p, k), k, value) {
			return true
		}
	}
	if selected {
		return false
	}
	for i := range policies {
		if matchAny(patterns(&policies[i], k), k, value) {
			return false
		}
	}
	return true
}

// tenancy reads the policies and the namespaces they select, from the
// manager's cache.
type tenancy struct {
	reader client.Reader
}

// check refuses, with a NotAllowed outcome, the first of the values of
// kind k that the policies do not let the namespace use.
func (t tenancy) check(ctx context.Context, namespace string, k nameKind, values ...string) error {
	var list v1alpha1.TenancyPolicyList
	if err := t.reader.List(ctx, &list); err != nil {
		return fmt.Errorf("list tenancy policies: %w", err)
	}
	if len(list.Items) == 0 {
		return nil
	}
	ns, err := t.namespace(ctx, namespace)
	if err != nil {
		return err
	}
	for _, v := range values {
		if !tenancyAllows(list.Items, ns, k, v) {
			return failed(v1alpha1.ReasonNotAllowed, "the tenancy policies do not let namespace %q use the %s %q", namespace, k, v)
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
