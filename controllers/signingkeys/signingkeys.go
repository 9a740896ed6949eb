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
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// +kubebuilder:rbac:groups="",namespace=authstack-system,resources=secrets,verbs=get;list;watch;create;update

// Defaults of the signing-key rotation (docs/signing-keys.md).
const (
	DefaultRotationPeriod = 30 * 24 * time.Hour
	// DefaultPublishDelay covers the kubelet's Secret volume update
	// (about a minute), the servers' reload (10 s) and the JWKS max-age
	// (60 s), with a margin.
	DefaultPublishDelay = 5 * time.Minute
	// DefaultRetention covers the longest access token lifetime plus
	// the time servers may still sign with a retired key.
	DefaultRetention = accesstoken.MaxTTL + 15*time.Minute
	// DefaultCheckInterval is the longest wait between two passes.
	DefaultCheckInterval = 5 * time.Minute
)

// Options configure the signing-key rotation. Zero durations take the
// Default* values; Alg "" is ES256.
type Options struct {
	Namespace, Name string
	Alg             string
	RotationPeriod  time.Duration
	PublishDelay    time.Duration
	Retention       time.Duration
	// CheckInterval is the longest wait between two passes, and between
	// two attempts after a failure. A change to the Secret (its deletion
	// included) starts a pass at once; the plan's steps are due at times of
	// Clock, which a wait on the process's timers can miss (a suspended
	// node, a stepped clock), so no wait is longer than this.
	CheckInterval time.Duration
	// Clock is the rotation's clock (default: the real one).
	Clock clock.PassiveClock
}

// Metrics are the rotation's metrics, labelled by the Secret's
// namespace/name. The manager registers them (controllers.Setup).
type Metrics struct {
	// Age is the active key's age and activation time, computed when
	// scraped.
	Age       *KeyAge
	Rotations *prometheus.CounterVec
	Errors    *prometheus.CounterVec
	// Period is the rotation period (--signing-key-rotation-period), set
	// on every replica at Setup: the key-age alert compares Age with it.
	Period *prometheus.GaugeVec
	// Checked is the time of the last pass that read the Secret and
	// found its keys well formed (and wrote them if they were due a
	// change): passes hours apart are normal, a time long past with no
	// pass is a manager that stopped looking.
	Checked *prometheus.GaugeVec
}

// NewMetrics returns unregistered metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		Age: NewKeyAge(),
		Rotations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "authstack_signing_key_rotations_total",
			Help: "Promotions of a next signing key to active."}, []string{"secret"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "authstack_signing_key_errors_total",
			Help: "Failed passes of the signing-key manager, by reason."}, []string{"secret", "reason"}),
		Period: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "authstack_signing_key_rotation_period_seconds",
			Help: "How long a signing key stays active before the next one is promoted (--signing-key-rotation-period)."}, []string{"secret"}),
		Checked: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "authstack_signing_key_last_check_timestamp_seconds",
			Help: "When the signing-key manager last read the Secret and found its keys well formed (Unix time, the rotation's clock)."}, []string{"secret"}),
	}
}

// KeyAge collects the active signing key's age,
// authstack_signing_key_age_seconds, computed when scraped from its
// activation time and the rotation's clock, and that activation time,
// authstack_signing_key_activated_timestamp_seconds. Between passes of the
// rotation, hours or days apart, the age keeps growing: a manager that
// stopped rotating shows as a key older than the period, which the key-age
// alert looks for. A gauge set at each pass would stand still and hide it.
type KeyAge struct {
	age, activated *prometheus.Desc
	mu             sync.Mutex
	keys           map[string]activeKey
}

// activeKey is one Secret's active key as the last pass read it.
type activeKey struct {
	activated time.Time
	clock     clock.PassiveClock
}

// NewKeyAge returns an unregistered KeyAge with no key yet.
func NewKeyAge() *KeyAge {
	return &KeyAge{
		age: prometheus.NewDesc("authstack_signing_key_age_seconds",
			"Time since the active signing key was activated, as of the scrape.", []string{"secret"}, nil),
		activated: prometheus.NewDesc("authstack_signing_key_activated_timestamp_seconds",
			"When the active signing key was activated (Unix time).", []string{"secret"}, nil),
		keys: map[string]activeKey{},
	}
}

// Set records that secret's active key was activated at activated, its
// age counted on clk.
func (k *KeyAge) Set(secret string, activated time.Time, clk clock.PassiveClock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[secret] = activeKey{activated: activated, clock: clk}
}

// Describe implements prometheus.Collector.
func (k *KeyAge) Describe(ch chan<- *prometheus.Desc) {
	ch <- k.age
	ch <- k.activated
}

// Collect implements prometheus.Collector.
func (k *KeyAge) Collect(ch chan<- prometheus.Metric) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for secret, a := range k.keys {
		ch <- prometheus.MustNewConstMetric(k.age, prometheus.GaugeValue, a.clock.Since(a.activated).Seconds(), secret)
		ch <- prometheus.MustNewConstMetric(k.activated, prometheus.GaugeValue, unixSeconds(a.activated), secret)
	}
}

// unixSeconds is t as a Prometheus timestamp value.
func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Reconciler owns the signing-keys Secret: it creates it, rotates its keys
// on the policy's schedule and drops retired keys. It reconciles that one
// Secret, on the leader only (the default for controllers), and writes
// with the resourceVersion it read, so two writers cannot overwrite each
// other.
type Reconciler struct {
	api      client.Reader // uncached reads: no cache holds Secret data
	client   client.Client // writes
	recorder events.EventRecorder
	key      types.NamespacedName
	policy   keyPolicy
	interval time.Duration
	clock    clock.PassiveClock
	generate func(alg string) (*signer.Key, error)
	metrics  *Metrics

	badVersion string // resourceVersion of the last malformed Secret reported
}

// Reconcile brings the Secret to the planned state and asks to be called
// again when the next step is due.
func (r *Reconciler) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	wake, err := r.sync(ctx)
	if errors.Is(err, ErrMalformedKeys) {
		// Reported by an Event; only a change to the Secret can help, and
		// it starts a pass of its own.
		log.FromContext(ctx).Info("Signing keys left unchanged", "secret", r.key.String(), "error", err.Error())
		return ctrl.Result{RequeueAfter: r.interval}, nil
	}
	if err != nil {
		return ctrl.Result{}, err // retried with backoff, at most every interval
	}
	return ctrl.Result{RequeueAfter: requeueAfter(r.clock.Now(), wake, r.interval)}, nil
}

// requeueAfter is the wait until wake, at most interval, and at least a
// moment (a zero RequeueAfter would not requeue at all).
func requeueAfter(now, wake time.Time, interval time.Duration) time.Duration {
	d := wake.Sub(now)
	if wake.IsZero() || d > interval {
		return interval
	}
	return max(d, time.Millisecond)
}

// sync brings the Secret to the planned state and returns when the next
// step is due.
func (r *Reconciler) sync(ctx context.Context) (time.Time, error) {
	label := r.key.String()
	sec := &corev1.Secret{}
	err := r.api.Get(ctx, r.key, sec)
	exists := err == nil
	switch {
	case apierrors.IsNotFound(err):
		sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.key.Namespace, Name: r.key.Name,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "authstack-manager"}}, Type: corev1.SecretTypeOpaque}
	case err != nil:
		r.metrics.Errors.WithLabelValues(label, "Read").Inc()
		return time.Time{}, fmt.Errorf("get signing-keys secret: %w", err)
	}
	now := r.clock.Now()
	cur, err := decodeKeys(sec.Data, now)
	if err != nil {
		r.metrics.Errors.WithLabelValues(label, "Malformed").Inc()
		if sec.ResourceVersion != r.badVersion {
			r.badVersion = sec.ResourceVersion
			r.recorder.Eventf(sec, nil, corev1.EventTypeWarning, "MalformedSigningKeys", "Rotate",
				"Signing keys left unchanged: %s", err.Error())
		}
		return time.Time{}, err
	}
	plan := planKeys(now, cur, r.policy)
	if len(plan.Changes) == 0 {
		r.checked(label, now, cur.Active.Activated)
		return plan.Wake, nil
	}
	if err := fillKeys(&plan.State, r.generate); err != nil {
		r.metrics.Errors.WithLabelValues(label, "Generate").Inc()
		return time.Time{}, err
	}
	if sec.Data, err = encodeKeys(sec.Data, plan.State); err != nil {
		return time.Time{}, err
	}
	if exists {
		err = r.client.Update(ctx, sec) // with the resourceVersion read: a conflict fails
	} else {
		err = r.client.Create(ctx, sec)
		if err == nil {
			log.FromContext(ctx).Info("Created the signing-keys Secret", "secret", label, "kid", plan.State.Active.Kid)
		}
	}
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		return now, nil // another writer won: read again at once
	}
	if err != nil {
		r.metrics.Errors.WithLabelValues(label, "Write").Inc()
		return time.Time{}, fmt.Errorf("write signing-keys secret: %w", err)
	}
	r.badVersion = ""
	if plan.Rotated {
		r.metrics.Rotations.WithLabelValues(label).Inc()
	}
	r.checked(label, now, plan.State.Active.Activated)
	msg := strings.Join(plan.Changes, "; ")
	log.FromContext(ctx).Info("Updated the signing keys", "secret", label, "changes", msg)
	r.recorder.Eventf(sec, nil, corev1.EventTypeNormal, "SigningKeysUpdated", "Rotate", "%s", msg)
	// A new next key has its Created time now: recompute the wake time
	// from the written state.
	return wakeAt(plan.State, r.policy), nil
}

// checked records a pass at now that left the active key activated at
// activated.
func (r *Reconciler) checked(label string, now, activated time.Time) {
	r.metrics.Age.Set(label, activated, r.clock)
	r.metrics.Checked.WithLabelValues(label).Set(unixSeconds(now))
}

// rateLimiter retries a failed pass with backoff from 100 ms to interval.
func rateLimiter(interval time.Duration) workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](100*time.Millisecond, interval)
}
