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
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/authstack/authstack/internal/records"
)

// claimant is an object that claims a contested name (a username or a
// client ID), as the holder rule sees it.
type claimant struct {
	source  string // namespace/name
	created metav1.Time
	// held is set when the object's status names this name as the one it
	// holds: it wrote the record, and no other object has displaced it.
	held bool
}

// nameHolder decides which claimant holds a name: a pure function,
// table-tested. record is the source of the store's record of the name
// ("" when there is none), recordVisible whether this manager watches the
// namespace it names, claimants every object (self included) whose
// effective name it is and that is not being deleted.
//
// A held name is never displaced by another object's create or rename:
//   - a record from a namespace the manager does not watch is held by an
//     object it cannot see;
//   - the claimant that wrote the record holds it;
//   - with no record (the store lost its data), or one written by an object
//     that no longer claims the name, a claimant whose status says it held
//     the name keeps it (the oldest, if a race left several);
//   - otherwise nobody holds it, and the first claimant to write takes it.
//
// Age alone never decides: an older object renamed to a held name gets
// nothing.
func nameHolder(record string, recordVisible bool, claimants []claimant) (claimant, bool) {
	if record != "" && !recordVisible {
		return claimant{source: record}, true
	}
	for _, c := range claimants {
		if record != "" && c.source == record {
			return c, true
		}
	}
	var best *claimant
	for i := range claimants {
		c := &claimants[i]
		if c.held && (best == nil || older(c, best)) {
			best = c
		}
	}
	if best == nil {
		return claimant{}, false
	}
	return *best, true
}

func older(a, b *claimant) bool {
	if !a.created.Equal(&b.created) {
		return a.created.Before(&b.created)
	}
	return cmp.Less(a.source, b.source)
}

// claimants lists the objects of list's kind indexed under name, with self
// counted in even if the cache has not seen it yet, and whether each holds
// the name by its status (heldName).
func claimants(ctx context.Context, c client.Reader, list client.ObjectList, index, name string, self client.Object,
	heldName func(client.Object) string) ([]claimant, error) {
	if err := c.List(ctx, list, client.MatchingFields{index: name}); err != nil {
		return nil, fmt.Errorf("list claimants of %q: %w", name, err)
	}
	of := func(o client.Object) claimant {
		return claimant{source: records.Source(o), created: o.GetCreationTimestamp(), held: heldName(o) == name}
	}
	out := []claimant{of(self)}
	_ = meta.EachListItem(list, func(o runtime.Object) error {
		if obj := o.(client.Object); obj.GetUID() != self.GetUID() && obj.GetDeletionTimestamp().IsZero() {
			out = append(out, of(obj))
		}
		return nil
	})
	return out, nil
}

// nameLocks serialises the reconciles that touch one name, so that the
// holder rule's read of the store and its write are one step: two objects
// created at once cannot both take a name. The manager is the only writer
// of records (one leader), so a lock in its process is enough.
type nameLocks struct {
	stripes [64]sync.Mutex
}

// lock locks name and returns the unlock.
func (l *nameLocks) lock(name string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	m := &l.stripes[h.Sum32()%uint32(len(l.stripes))]
	m.Lock()
	return m.Unlock
}

// visible reports whether the manager watches the namespace of the record
// source src ("namespace/name"); every source is visible to a manager that
// watches all namespaces (watched nil), and so is a record without one.
func visible(src string, watched func(string) bool) bool {
	ns, _, ok := strings.Cut(src, "/")
	return !ok || watched == nil || watched(ns)
}

// logNotSynced logs a reconcile that did not sync its object, with what
// only the operator may read.
func logNotSynced(ctx context.Context, kind string, err error) {
	if err == nil {
		return
	}
	kv := []any{"reason", readyCondition(err, 0, "").Reason, "error", err.Error()}
	var se *syncError
	if errors.As(err, &se) && se.Notice != "" {
		kv = append(kv, "detail", se.Notice)
	}
	log.FromContext(ctx).Info(kind+" not synced", kv...)
}
