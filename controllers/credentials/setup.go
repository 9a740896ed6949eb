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
	"errors"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/store"
)

// Options configure the controllers Setup registers.
type Options struct {
	Store store.Store
	// HashParams hash plaintext passwords; they should be the token
	// server's, so that records and the unknown-user decoy cost the same.
	HashParams password.Params
	// HashCostFactor refuses a given hash costing more than this many times
	// one made with HashParams (the token servers' --hash-cost-factor, which
	// they hold stored hashes to); 0: only the absolute bounds.
	HashCostFactor uint
	// EpochInterval is how often the store's epoch marker is checked
	// (default 5s): the time to notice that the store lost its data.
	EpochInterval time.Duration
	// MaxConcurrentReconciles per controller (default
	// DefaultMaxConcurrentReconciles, and never fewer than GOMAXPROCS, so
	// that plaintext passwords keep every core hashing).
	MaxConcurrentReconciles int
	// OrphanInterval is how often records whose resource is gone are looked
	// for and removed (default 10m, the manager's --resync-period).
	OrphanInterval time.Duration
	// Namespaces the manager watches; nil for all. Records of resources in
	// other namespaces are never treated as orphans.
	Namespaces []string
	// Clock is the clock of not-before times; nil is the real clock.
	Clock clock.PassiveClock
	// ManagerNamespace is the manager's own namespace: only an AuthClient
	// there may define PublicClientID, and Events for the operator are
	// written there, regarding the Pod ManagerPod (when set).
	ManagerNamespace, ManagerPod string
	// PublicClientID is the token servers' --public-client-id
	// (DefaultPublicClientID unless changed there); empty reserves none.
	PublicClientID string
	// SecretSelector, if set, restricts the manager to the Secrets it
	// matches; pass the same selector to CacheOptions.
	SecretSelector labels.Selector
	// EpochResets, if set, counts the store resets the epoch watcher finds
	// (the marker gone or replaced after one was known): the store lost its
	// data. controllers.Setup sets it (authstack_epoch_resets_total).
	EpochResets prometheus.Counter
	// LoginState configures how the users' last logins and throttles are
	// written into their AuthUsers' status.
	LoginState LoginStateOptions
}

// DefaultMaxConcurrentReconciles is the default reconciles at once per
// kind. A reconcile mostly waits: on the API server (a Secret read, a
// finalizer patch and a status patch for a new user, each a few
// milliseconds to tens of them under load) and on Redis; hashes are bounded
// to GOMAXPROCS at once by a pool of their own, whatever this is. What
// bounds the rate of users made Ready is then this many round trips in
// flight, not the cores: 32 keeps 200 users/s with a pass of up to 160 ms,
// and costs only goroutines (docs/operations.md, "The manager's
// throughput").
const DefaultMaxConcurrentReconciles = 32

// DefaultPublicClientID is the token servers' default --public-client-id.
const DefaultPublicClientID = "default"

// watchedNamespaces reports whether a namespace is among namespaces; nil
// (every namespace) for none.
func watchedNamespaces(namespaces []string) func(string) bool {
	if len(namespaces) == 0 {
		return nil
	}
	set := map[string]bool{}
	for _, ns := range namespaces {
		set[ns] = true
	}
	return func(ns string) bool { return set[ns] }
}

// Setup registers the field indexes, the AuthUser and AuthClient
// controllers, the epoch watcher, the orphan collector and the login state
// reflector with mgr.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	if o.Store == nil {
		return errors.New("controllers: a store is required")
	}
	if o.HashParams == (password.Params{}) {
		o.HashParams = password.DefaultParams
	}
	if err := o.HashParams.Validate(); err != nil {
		return err
	}
	if o.EpochInterval <= 0 {
		o.EpochInterval = 5 * time.Second
	}
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = max(DefaultMaxConcurrentReconciles, runtime.GOMAXPROCS(0))
	}
	if o.OrphanInterval <= 0 {
		o.OrphanInterval = 10 * time.Minute
	}
	if err := setupIndexes(ctx, mgr); err != nil {
		return err
	}
	secrets := newSecretReader(mgr.GetClient(), mgr.GetAPIReader(), o.SecretSelector)
	recorder := mgr.GetEventRecorder("authstack-manager")
	operator := &operatorEvents{recorder: recorder}
	if o.ManagerNamespace != "" && o.ManagerPod != "" {
		operator.pod = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: o.ManagerNamespace, Name: o.ManagerPod}}
	}
	watched := watchedNamespaces(o.Namespaces)
	policies := tenancy{reader: mgr.GetClient()}
	users := &AuthUserReconciler{Client: mgr.GetClient(), Secrets: secrets, Store: o.Store,
		Params: o.HashParams, CostFactor: o.HashCostFactor, Recorder: recorder, Clock: clocks.Or(o.Clock),
		// Reconciles wait for a hashing slot rather than fail.
		Hashing: password.NewPool(password.PoolOptions{Queue: o.MaxConcurrentReconciles, MaxWait: time.Minute}),
		Names:   &nameLocks{}, Tenancy: policies, Operator: operator, Watched: watched}
	if err := users.SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: o.MaxConcurrentReconciles}); err != nil {
		return err
	}
	clients := &AuthClientReconciler{Client: mgr.GetClient(), Secrets: secrets, ConfigMaps: newConfigMapReader(mgr.GetClient(), mgr.GetAPIReader()),
		Store: o.Store, Recorder: recorder, Clock: clocks.Or(o.Clock),
		Names: &nameLocks{}, Tenancy: policies, Operator: operator, Watched: watched,
		PublicClientID: o.PublicClientID, ManagerNamespace: o.ManagerNamespace}
	if err := clients.SetupWithManager(mgr, controller.Options{MaxConcurrentReconciles: o.MaxConcurrentReconciles}); err != nil {
		return err
	}
	w := &epochWatcher{store: o.Store, interval: o.EpochInterval, log: mgr.GetLogger().WithName("epoch"), resets: o.EpochResets,
		resync: func(ctx context.Context) error { return errors.Join(users.Resync(ctx), clients.Resync(ctx)) }}
	if err := mgr.Add(w); err != nil {
		return err
	}
	orphans := &orphanCollector{store: o.Store, cache: mgr.GetCache(), api: mgr.GetAPIReader(),
		interval: o.OrphanInterval, log: mgr.GetLogger().WithName("orphans"), watched: watched}
	if err := mgr.Add(orphans); err != nil {
		return err
	}
	if o.LoginState.SyncPeriod < 0 {
		return nil
	}
	return mgr.Add(newLoginStateReflector(o.Store, mgr.GetCache(), mgr.GetClient(), o.LoginState, o.Clock, mgr.GetLogger().WithName("loginstate")))
}
