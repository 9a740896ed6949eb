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

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/internal/records"
)

// heldName is how the objects of one kind hold a contested name (a
// username, a client ID) and the store's record under it: the name an
// object wants, the status field naming the one it holds, and the store
// call that deletes a record only if its writer asks. Releasing, renaming
// and claiming are the same for both kinds; the reconcilers delegate to it.
type heldName[T client.Object] struct {
	kind, what string // "AuthUser", "username": for the conflict messages
	conflict   string // the Ready reason of a name held by another object
	index      string // the field index of the wanted name
	newList    func() client.ObjectList
	wanted     func(T) string
	held       func(T) *string
	deleteFrom func(ctx context.Context, name, source string) (bool, error)
	client     client.Client
	locks      *nameLocks
	watched    func(namespace string) bool
}

// release removes the record obj holds under name, if obj wrote it, and
// stops claiming name in obj's status.
func (h heldName[T]) release(ctx context.Context, obj T, name string) error {
	defer h.locks.lock(name)()
	if err := h.deleteIfOwned(ctx, name, records.Source(obj)); err != nil {
		return err
	}
	if held := h.held(obj); *held == name {
		*held = ""
	}
	return nil
}

// releaseOld removes the record of the name obj held before its wanted
// name changed.
func (h heldName[T]) releaseOld(ctx context.Context, obj T) error {
	old := *h.held(obj)
	if old == "" || old == h.wanted(obj) {
		return nil
	}
	return h.release(ctx, obj, old)
}

// releaseAll removes the records obj owns, for its deletion. While the
// store is down the finalizer stays and the delete is retried: a record
// is never left behind.
func (h heldName[T]) releaseAll(ctx context.Context, obj T) error {
	for _, name := range ownedNames(*h.held(obj), h.wanted(obj)) {
		if err := h.deleteOwned(ctx, name, records.Source(obj)); err != nil {
			return err
		}
	}
	return nil
}

// deleteOwned is deleteIfOwned under the name's lock.
func (h heldName[T]) deleteOwned(ctx context.Context, name, src string) error {
	defer h.locks.lock(name)()
	return h.deleteIfOwned(ctx, name, src)
}

// deleteIfOwned deletes the record of name when src wrote it: a record
// that another object holds, or has written meanwhile, is left alone (the
// check and the delete are one atomic store operation).
func (h heldName[T]) deleteIfOwned(ctx context.Context, name, src string) error {
	if _, err := h.deleteFrom(ctx, name, src); err != nil {
		return storeUnavailable(err)
	}
	return nil
}

// claim refuses obj's wanted name when another object holds it
// (nameHolder); record is the source of the store's record of it.
func (h heldName[T]) claim(ctx context.Context, obj T, record string) error {
	name := h.wanted(obj)
	cs, err := claimants(ctx, h.client, h.newList(), h.index, name, obj,
		func(o client.Object) string { return *h.held(o.(T)) })
	if err != nil {
		return err
	}
	holder, ok := nameHolder(record, visible(record, h.watched), cs)
	if !ok || holder.source == records.Source(obj) {
		return nil
	}
	return &syncError{
		Reason:  h.conflict,
		Message: fmt.Sprintf("%s %q is held by another %s", h.what, name, h.kind),
		Notice:  fmt.Sprintf("%s %s claims %s %q, which %s %s holds", h.kind, records.Source(obj), h.what, name, h.kind, holder.source),
	}
}

// ownedNames lists the distinct non-empty names among names.
func ownedNames(names ...string) []string {
	var out []string
	for _, n := range names {
		if n != "" && (len(out) == 0 || out[len(out)-1] != n) {
			out = append(out, n)
		}
	}
	return out
}
