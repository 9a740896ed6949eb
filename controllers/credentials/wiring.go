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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/authstack/authstack/api/v1alpha1"
)

// watched describes one kind the controllers reconcile (AuthUser or
// AuthClient) for the wiring both share.
type watched struct {
	name      string
	object    client.Object
	newList   func() client.ObjectList
	nameIndex string                     // the field index of the contested name
	nameOf    func(client.Object) string // the contested name (username, client ID)
	// inScope reports whether the manager watches a namespace (nil: all).
	inScope func(namespace string) bool
	// watchMore, if set, adds the kind's own watches.
	watchMore func(*builder.Builder) *builder.Builder
}

// setupController registers r for the kind: its objects, the Secrets they
// read (metadata only), the other claimants of the same name, resyncs sent
// on the returned channel, and the kind's own watches.
func setupController(mgr ctrl.Manager, k watched, r reconcile.Reconciler, opts controller.Options) (chan event.GenericEvent, error) {
	resync := make(chan event.GenericEvent)
	opts.RateLimiter = rateLimiter()
	c := mgr.GetClient()
	b := ctrl.NewControllerManagedBy(mgr).
		Named(k.name).
		For(k.object).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(readersOf(c, k.newList, indexSecret))).
		Watches(k.object, claimantsHandler(c, k.newList(), k.nameIndex, k.nameOf)).
		// A policy change may allow or refuse any object; a namespace's
		// labels decide which policies select it.
		Watches(&v1alpha1.TenancyPolicy{}, handler.EnqueueRequestsFromMapFunc(everyObject(c, k.newList))).
		WatchesMetadata(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(objectsIn(c, k.newList, k.inScope)),
			builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WatchesRawSource(source.Channel(resync, &handler.EnqueueRequestForObject{})).
		WithOptions(opts)
	if k.watchMore != nil {
		b = k.watchMore(b)
	}
	return resync, b.Complete(r)
}

// readersOf maps a Secret or ConfigMap to the objects of its namespace
// that read it, by the field index of their references to that kind.
func readersOf(c client.Reader, newList func() client.ObjectList, index string) handler.MapFunc {
	return func(ctx context.Context, s client.Object) []reconcile.Request {
		return requestsFor(ctx, c, newList(), client.InNamespace(s.GetNamespace()), client.MatchingFields{index: s.GetName()})
	}
}

// accountUsers maps a ServiceAccount to the AuthClients, in any namespace,
// that name it.
func accountUsers(c client.Reader) handler.MapFunc {
	return func(ctx context.Context, sa client.Object) []reconcile.Request {
		return requestsFor(ctx, c, &v1alpha1.AuthClientList{}, client.MatchingFields{indexServiceAccount: serviceAccountKey(sa.GetNamespace(), sa.GetName())})
	}
}

// everyObject maps any event to every object of the list's kind.
func everyObject(c client.Reader, newList func() client.ObjectList) handler.MapFunc {
	return func(ctx context.Context, _ client.Object) []reconcile.Request {
		return requestsFor(ctx, c, newList())
	}
}

// objectsIn maps a Namespace to the objects of the list's kind in it.
func objectsIn(c client.Reader, newList func() client.ObjectList, inScope func(string) bool) handler.MapFunc {
	return func(ctx context.Context, ns client.Object) []reconcile.Request {
		if inScope != nil && !inScope(ns.GetName()) {
			return nil
		}
		return requestsFor(ctx, c, newList(), client.InNamespace(ns.GetName()))
	}
}

func requestsFor(ctx context.Context, c client.Reader, list client.ObjectList, opts ...client.ListOption) []reconcile.Request {
	if err := c.List(ctx, list, opts...); err != nil {
		log.FromContext(ctx).Error(err, "Cannot list objects to reconcile")
		return nil
	}
	var reqs []reconcile.Request
	_ = meta.EachListItem(list, func(o runtime.Object) error {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o.(client.Object))})
		return nil
	})
	return reqs
}

// resyncAll sends every object of the list's kind to ch.
func resyncAll(ctx context.Context, c client.Reader, list client.ObjectList, ch chan<- event.GenericEvent) error {
	if err := c.List(ctx, list); err != nil {
		return err
	}
	return meta.EachListItem(list, func(o runtime.Object) error {
		select {
		case ch <- event.GenericEvent{Object: o.(client.Object)}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}
