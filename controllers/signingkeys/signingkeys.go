package signingkeys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/resourceserver/accesstoken"
)

// +kubebuilder:rbac:groups="",namespace=authstack-system,resources=secrets,verbs=get;create;update;patch

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
	// DefaultCheckInterval bounds the time to notice a deleted Secret.
	DefaultCheckInterval = 30 * time.Second
)

var (
	keyMetricsOnce sync.Once
	keyAge         = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "authstack_signing_key_age_seconds",
		Help: "Time since the active signing key was activated."}, []string{"secret"})
	keyRotations = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "authstack_signing_key_rotations_total",
		Help: "Promotions of a next signing key to active."}, []string{"secret"})
	keyErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "authstack_signing_key_errors_total",
		Help: "Failed passes of the signing-key manager, by reason."}, []string{"secret", "reason"})
)

func registerKeyMetrics() {
	keyMetricsOnce.Do(func() {
		for _, c := range []prometheus.Collector{keyAge, keyRotations, keyErrors} {
			if err := metrics.Registry.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
				panic(err)
			}
		}
	})
}

// keyRotator owns the signing-keys Secret: it creates it, rotates its keys
// on the policy's schedule and drops retired keys. It runs on the leader
// only (the manager's default for runnables), and writes with the
// resourceVersion it read, so two writers cannot overwrite each other.
type keyRotator struct {
	api       client.Reader // uncached reads: the cache holds Secret metadata only
	client    client.Client // writes
	recorder  events.EventRecorder
	log       logr.Logger
	namespace string
	name      string
	policy    keyPolicy
	interval  time.Duration
	now       func() time.Time
	generate  func(alg string) (*signer.Key, error)

	badVersion string // resourceVersion of the last malformed Secret reported
}

// Start syncs the Secret until ctx ends: every interval, or sooner when a
// step is due.
func (r *keyRotator) Start(ctx context.Context) error {
	registerKeyMetrics()
	for {
		wait := r.interval
		wake, err := r.sync(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Info("Cannot sync the signing keys", "secret", r.namespace+"/"+r.name, "error", err.Error())
		} else if d := wake.Sub(r.now()); err == nil && d < wait {
			wait = max(d, 0)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// sync brings the Secret to the planned state and returns when the next
// step is due.
func (r *keyRotator) sync(ctx context.Context) (time.Time, error) {
	key := types.NamespacedName{Namespace: r.namespace, Name: r.name}
	label := r.namespace + "/" + r.name
	sec := &corev1.Secret{}
	err := r.api.Get(ctx, key, sec)
	exists := err == nil
	switch {
	case apierrors.IsNotFound(err):
		sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: r.namespace, Name: r.name,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "authstack-manager"}}, Type: corev1.SecretTypeOpaque}
	case err != nil:
		keyErrors.WithLabelValues(label, "Read").Inc()
		return time.Time{}, fmt.Errorf("get signing-keys secret: %w", err)
	}
	now := r.now()
	cur, err := decodeKeys(sec.Data, now)
	if err != nil {
		keyErrors.WithLabelValues(label, "Malformed").Inc()
		if sec.ResourceVersion != r.badVersion {
			r.badVersion = sec.ResourceVersion
			r.recorder.Eventf(sec, nil, corev1.EventTypeWarning, "MalformedSigningKeys", "Rotate",
				"Signing keys left unchanged: %s", err.Error())
		}
		return time.Time{}, err
	}
	plan := planKeys(now, cur, r.policy)
	if len(plan.Changes) == 0 {
		keyAge.WithLabelValues(label).Set(now.Sub(cur.Active.Activated).Seconds())
		return plan.Wake, nil
	}
	if err := fillKeys(&plan.State, r.generate); err != nil {
		keyErrors.WithLabelValues(label, "Generate").Inc()
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
			r.log.Info("Created the signing-keys Secret", "secret", label, "kid", plan.State.Active.Kid)
		}
	}
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		return now, nil // another writer won: read again at once
	}
	if err != nil {
		keyErrors.WithLabelValues(label, "Write").Inc()
		return time.Time{}, fmt.Errorf("write signing-keys secret: %w", err)
	}
	r.badVersion = ""
	if plan.Rotated {
		keyRotations.WithLabelValues(label).Inc()
	}
	keyAge.WithLabelValues(label).Set(now.Sub(plan.State.Active.Activated).Seconds())
	msg := strings.Join(plan.Changes, "; ")
	r.log.Info("Updated the signing keys", "secret", label, "changes", msg)
	r.recorder.Eventf(sec, nil, corev1.EventTypeNormal, "SigningKeysUpdated", "Rotate", "%s", msg)
	// A new next key has its Created time now: recompute the wake time
	// from the written state.
	return wakeAt(plan.State, r.policy), nil
}

// Options configure the signing-key rotation. Zero durations take the
// Default* values; Alg "" is ES256.
type Options struct {
	Namespace, Name string
	Alg             string
	RotationPeriod  time.Duration
	PublishDelay    time.Duration
	Retention       time.Duration
	// CheckInterval is how often the Secret is read (to notice a deletion).
	CheckInterval time.Duration
	// Now is the rotation's clock (default time.Now).
	Now func() time.Time
}

// Setup adds the key rotator to mgr when o names a Secret.
func Setup(mgr manager.Manager, o Options) error {
	if o.Name == "" {
		return nil
	}
	if o.Namespace == "" {
		return errors.New("controllers: the signing-keys Secret needs a namespace")
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
	if o.Now == nil {
		o.Now = time.Now
	}
	return mgr.Add(&keyRotator{api: mgr.GetAPIReader(), client: mgr.GetClient(),
		recorder: mgr.GetEventRecorder("authstack-manager"), log: mgr.GetLogger().WithName("signing-keys"),
		namespace: o.Namespace, name: o.Name, policy: p, interval: o.CheckInterval, now: o.Now, generate: signer.Generate})
}
