package controllers

import (
	"cmp"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

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
