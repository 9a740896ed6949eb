package controllers

import (
	"cmp"
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// holder returns the object that holds name among the objects of list's
// kind indexed under it, counting self in even if the cache has not seen it
// yet.
func holder(ctx context.Context, c client.Reader, list client.ObjectList, index, name string, self client.Object) (client.Object, error) {
	if err := c.List(ctx, list, client.MatchingFields{index: name}); err != nil {
		return nil, fmt.Errorf("list claimants of %q: %w", name, err)
	}
	objs := []client.Object{self}
	_ = meta.EachListItem(list, func(o runtime.Object) error {
		if obj := o.(client.Object); obj.GetUID() != self.GetUID() {
			objs = append(objs, obj)
		}
		return nil
	})
	return claimant(objs), nil
}

// claimant returns the object that holds a contested name (a username or a
// client ID): the oldest, with ties broken by namespace and name so that
// every pass and every replica picks the same one. nil for no objects.
func claimant[T client.Object](objs []T) client.Object {
	var best client.Object
	for _, o := range objs {
		if best == nil || older(o, best) {
			best = o
		}
	}
	return best
}

func older(a, b client.Object) bool {
	ta, tb := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	if c := cmp.Compare(a.GetNamespace(), b.GetNamespace()); c != 0 {
		return c < 0
	}
	return a.GetName() < b.GetName()
}
