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

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// Finalizer keeps an AuthUser or AuthClient until its record is removed
// from the store.
const Finalizer = "authstack.dev/credential-record"

// addFinalizer patches the finalizer onto obj; the update event brings the
// object back for the real work.
func addFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	before := obj.DeepCopyObject().(client.Object)
	controllerutil.AddFinalizer(obj, Finalizer)
	return c.Patch(ctx, obj, client.MergeFrom(before))
}

// removeFinalizer lets the API server delete obj.
func removeFinalizer(ctx context.Context, c client.Client, obj client.Object) error {
	before := obj.DeepCopyObject().(client.Object)
	controllerutil.RemoveFinalizer(obj, Finalizer)
	return client.IgnoreNotFound(c.Patch(ctx, obj, client.MergeFrom(before)))
}
