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
	"strings"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/store"
)

// orphanCollector removes records whose resource is gone: a finalizer
// removed by hand, a rename whose status write failed, a record written by
// a manager that was then stopped. Reconciles only see resources that exist;
// this walks the store the other way. Records without a source (written by
// other tools) and records of namespaces this manager does not watch are
// left alone.
type orphanCollector struct {
	store    store.Store
	cache    cache.Cache
	api      client.Reader // confirms absence past cache lag
	interval time.Duration
	watched  func(namespace string) bool // nil: all
	log      logr.Logger
}

// Start runs a pass once the cache has synced, then every interval, on the
// leader only.
func (c *orphanCollector) Start(ctx context.Context) error {
	if !c.cache.WaitForCacheSync(ctx) {
		return nil
	}
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := c.collect(ctx); err != nil && ctx.Err() == nil {
			c.log.Info("Orphaned record pass failed", "error", err.Error())
		}
	}, c.interval)
	return nil
}

func (c *orphanCollector) collect(ctx context.Context) error {
	users, err := c.store.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, u := range users {
		if c.orphan(ctx, u.Source, &v1alpha1.AuthUser{}, func(o client.Object) bool {
			au := o.(*v1alpha1.AuthUser)
			return au.EffectiveUsername() == u.Username || au.Status.Username == u.Username
		}) {
			if ok, err := c.store.DeleteUserFrom(ctx, u.Username, u.Source); err != nil {
				return err
			} else if ok {
				c.log.Info("Removed an orphaned credential record", "username", u.Username, "source", u.Source)
			}
		}
	}
	clients, err := c.store.ListClients(ctx)
	if err != nil {
		return err
	}
	for _, cl := range clients {
		if c.orphan(ctx, cl.Source, &v1alpha1.AuthClient{}, func(o client.Object) bool {
			ac := o.(*v1alpha1.AuthClient)
			return ac.EffectiveClientID() == cl.ID || ac.Status.ClientID == cl.ID
		}) {
			if ok, err := c.store.DeleteClientFrom(ctx, cl.ID, cl.Source); err != nil {
				return err
			} else if ok {
				c.log.Info("Removed an orphaned client registration", "clientID", cl.ID, "source", cl.Source)
			}
		}
	}
	return nil
}

// orphan reports whether the record written by source ("namespace/name") no
// longer belongs to it: the resource is gone, or holds another name.
func (c *orphanCollector) orphan(ctx context.Context, source string, obj client.Object, holds func(client.Object) bool) bool {
	ns, name, ok := strings.Cut(source, "/")
	if !ok || ns == "" || name == "" || (c.watched != nil && !c.watched(ns)) {
		return false
	}
	key := types.NamespacedName{Namespace: ns, Name: name}
	err := c.cache.Get(ctx, key, obj)
	if apierrors.IsNotFound(err) {
		// The cache may lag behind a resource created a moment ago.
		err = c.api.Get(ctx, key, obj)
	}
	switch {
	case apierrors.IsNotFound(err):
		return true
	case err != nil:
		return false
	}
	return obj.GetDeletionTimestamp() == nil && !holds(obj)
}
