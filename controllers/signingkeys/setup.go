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

package signingkeys

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// Setup adds the signing-keys controller to mgr when o names a Secret.
//
// The controller watches that one Secret's metadata through a cache of its
// own, listing only its name in its namespace: the manager's cache may not
// cover the manager's namespace (--namespace) nor hold Secrets without the
// --secret-selector label, and it need not hold this Secret either.
func Setup(mgr ctrl.Manager, o Options, m *Metrics) error {
	if o.Name == "" {
		return nil
	}
	if o.Namespace == "" {
		return errors.New("controllers: the signing-keys Secret needs a namespace")
	}
	if m == nil {
		return errors.New("controllers: the signing-keys controller needs its metrics")
	}
	p := keyPolicy{Alg: o.Alg, Period: o.RotationPeriod, PublishDelay: o.PublishDelay, Retention: o.Retention}
	if p.Alg == "" {
		p.Alg = signer.AlgES256
	}
	if _, err := signer.Generate(p.Alg); err != nil {
		return fmt.Errorf("controllers: signing key algorithm: %w", err)
	}
	if p.Period <= 0 {
		p.Period = DefaultRotationPeriod
	}
	if p.PublishDelay <= 0 {
		p.PublishDelay = DefaultPublishDelay
	}
	if p.Retention <= 0 {
		p.Retention = DefaultRetention
	}
	if p.Retention < accesstoken.MaxTTL {
		return fmt.Errorf("controllers: signing key retention %s is shorter than the longest token lifetime %s", p.Retention, accesstoken.MaxTTL)
	}
	if o.CheckInterval <= 0 {
		o.CheckInterval = DefaultCheckInterval
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	key := types.NamespacedName{Namespace: o.Namespace, Name: o.Name}
	m.Period.WithLabelValues(key.String()).Set(p.Period.Seconds())
	secrets, err := cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient: mgr.GetHTTPClient(), Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		DefaultNamespaces:    map[string]cache.Config{key.Namespace: {}},
		DefaultFieldSelector: fields.OneTermEqualSelector("metadata.name", key.Name),
		DefaultTransform:     identityOnly,
	})
	if err != nil {
		return fmt.Errorf("controllers: signing-keys cache: %w", err)
	}
	if err := mgr.Add(secrets); err != nil {
		return err
	}
	r := &Reconciler{api: mgr.GetAPIReader(), client: mgr.GetClient(), recorder: mgr.GetEventRecorder("authstack-manager"),
		key: key, policy: p, interval: o.CheckInterval, clock: o.Clock, generate: signer.Generate, metrics: m}
	secret := &metav1.PartialObjectMetadata{}
	secret.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	theSecret := predicate.NewTypedPredicateFuncs(func(s *metav1.PartialObjectMetadata) bool {
		return s.Namespace == key.Namespace && s.Name == key.Name
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("signingkeys").
		// Every event of the Secret, its deletion included, starts a pass.
		WatchesRawSource(source.Kind(secrets, secret, handler.TypedEnqueueRequestsFromMapFunc(
			func(context.Context, *metav1.PartialObjectMetadata) []reconcile.Request {
				return []reconcile.Request{{NamespacedName: key}}
			}), theSecret)).
		// A Secret that does not exist yet has no events: the first pass
		// creates it.
		WatchesRawSource(source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
			q.Add(reconcile.Request{NamespacedName: key})
			return nil
		})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, RateLimiter: rateLimiter(o.CheckInterval)}).
		Complete(r)
}

// identityOnly is the cache transform: the Secret's metadata keeps only
// its identity and resourceVersion (its annotations may hold its data).
func identityOnly(obj any) (any, error) {
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
		m.ObjectMeta = metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID,
			ResourceVersion: m.ResourceVersion, DeletionTimestamp: m.DeletionTimestamp}
	}
	return obj, nil
}
