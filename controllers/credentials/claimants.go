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

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// claimantsHandler enqueues the other objects that claim the same name
// (username or client ID) as the object of an event, under its old and new
// names: when the holder of a name goes away or renames itself, the next
// claimant takes the name over without waiting for a resync.
func claimantsHandler(c client.Reader, list client.ObjectList, index string, nameOf func(client.Object) string) handler.EventHandler {
	enqueue := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], self client.Object, names ...string) {
		for _, name := range ownedNames(names...) {
			l := list.DeepCopyObject().(client.ObjectList)
			if err := c.List(ctx, l, client.MatchingFields{index: name}); err != nil {
				log.FromContext(ctx).Error(err, "Cannot list claimants", "name", name)
				continue
			}
			_ = meta.EachListItem(l, func(o runtime.Object) error {
				obj := o.(client.Object)
				if obj.GetUID() != self.GetUID() {
					q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(obj)})
				}
				return nil
			})
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object, nameOf(e.Object))
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if nameOf(e.ObjectOld) != nameOf(e.ObjectNew) || e.ObjectNew.GetDeletionTimestamp() != nil {
				enqueue(ctx, q, e.ObjectNew, nameOf(e.ObjectOld), nameOf(e.ObjectNew))
			}
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object, nameOf(e.Object))
		},
	}
}
