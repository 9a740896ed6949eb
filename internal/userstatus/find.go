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

// Package userstatus says in plain words why a user cannot log in, from
// what the manager reflects in the status of her AuthUser (the Ready
// condition, the name it holds, the record's not-before, the password
// change, the login state the token servers recorded): the `authstack
// status` command. It reads AuthUsers only, with the caller's permissions;
// never the store (docs/decisions.md).
package userstatus

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
)

// pageSize is the AuthUsers read per list request: a cluster's 20,000 are
// read in pages, never held by the API server in one response. A variable
// for the test that pages through a few.
var pageSize int64 = 500

// Scope is where to look for the user's AuthUser.
type Scope struct {
	// Namespace is the one namespace to look in, unless AllNamespaces.
	Namespace     string
	AllNamespaces bool
}

// Search is where Find looked.
type Search struct {
	// AllNamespaces is set when every namespace was to be searched.
	AllNamespaces bool `json:"allNamespaces"`
	// Namespaces are the namespaces read one by one: the one asked for, or
	// every namespace when AuthUsers could not be listed cluster-wide.
	// Empty when they were listed cluster-wide.
	Namespaces []string `json:"namespaces,omitempty"`
	// Forbidden are the namespaces whose AuthUsers the caller may not list.
	Forbidden []string `json:"forbidden,omitempty"`
}

// Found is what Find read.
type Found struct {
	// Claimants are the AuthUsers that claim the username: their effective
	// username (spec.username, else metadata.name) or the name their
	// status says they hold is its canonical form, as the manager matches
	// them.
	Claimants []v1alpha1.AuthUser
	// Named are the AuthUsers named so that log in with another username
	// (spec.username): a likely mix-up.
	Named  []v1alpha1.AuthUser
	Search Search
}

// Find reads the AuthUsers in scope that claim username. A namespace the
// caller may not read is noted in Search.Forbidden, not an error; when
// AuthUsers cannot be listed cluster-wide, every namespace is read one by
// one, if the caller may list namespaces.
func Find(ctx context.Context, c client.Reader, username string, scope Scope) (Found, error) {
	name := v1alpha1.CanonicalName(username)
	f := Found{Search: Search{AllNamespaces: scope.AllNamespaces}}
	add := func(u *v1alpha1.AuthUser) {
		switch {
		case u.EffectiveUsername() == name || u.Status.Username == name:
			f.Claimants = append(f.Claimants, *u)
		case v1alpha1.CanonicalName(u.Name) == name:
			f.Named = append(f.Named, *u)
		}
	}
	if !scope.AllNamespaces {
		return f, f.readNamespace(ctx, c, scope.Namespace, add)
	}
	err := list(ctx, c, add)
	if !apierrors.IsForbidden(err) {
		return f, err
	}
	var nss corev1.NamespaceList
	if nerr := c.List(ctx, &nss); nerr != nil {
		return f, fmt.Errorf("you may not list AuthUsers in all namespaces (%w), nor the namespaces to read them one by one (%w)", err, nerr)
	}
	for _, ns := range nss.Items {
		if err := f.readNamespace(ctx, c, ns.Name, add); err != nil {
			return f, err
		}
	}
	return f, nil
}

// readNamespace reads ns's AuthUsers into add, or notes ns as forbidden.
func (f *Found) readNamespace(ctx context.Context, c client.Reader, ns string, add func(*v1alpha1.AuthUser)) error {
	err := list(ctx, c, add, client.InNamespace(ns))
	switch {
	case apierrors.IsForbidden(err):
		f.Search.Forbidden = append(f.Search.Forbidden, ns)
		return nil
	case err != nil:
		return err
	}
	f.Search.Namespaces = append(f.Search.Namespaces, ns)
	return nil
}

// list pages through the AuthUsers opts select.
func list(ctx context.Context, c client.Reader, add func(*v1alpha1.AuthUser), opts ...client.ListOption) error {
	opts = append(slices.Clip(opts), client.Limit(pageSize))
	cont := ""
	for {
		var l v1alpha1.AuthUserList
		if err := c.List(ctx, &l, append(opts, client.Continue(cont))...); err != nil {
			return err
		}
		for i := range l.Items {
			add(&l.Items[i])
		}
		if cont = l.Continue; cont == "" {
			return nil
		}
	}
}

// sentence joins names into "a", "a and b", "a, b and c".
func sentence(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
