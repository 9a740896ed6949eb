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

package signingkeys_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/authstack/authstack/controllers"
	"github.com/authstack/authstack/controllers/credentials"
	"github.com/authstack/authstack/controllers/signingkeys"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store/memory"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/testenv"
)

const (
	keysSecret   = "authstack-signing-keys"
	testPeriod   = 30 * 24 * time.Hour
	testDelay    = 5 * time.Minute
	testRetain   = 25 * time.Hour
	testInterval = 50 * time.Millisecond
)

// startKeyManager runs a manager that owns the signing keys of namespace
// ns on clock. The manager watches AuthUsers in ns, or in watched if given.
func startKeyManager(t *testing.T, ns string, clock clock.PassiveClock, opts ...func(o *controllers.Options)) {
	t.Helper()
	o := controllers.Options{
		Credentials: credentials.Options{Store: memory.New(), Namespaces: []string{ns}},
		SigningKeys: signingkeys.Options{Namespace: ns, Name: keysSecret, RotationPeriod: testPeriod,
			PublishDelay: testDelay, Retention: testRetain, CheckInterval: testInterval, Clock: clock},
	}
	for _, f := range opts {
		f(&o)
	}
	watch := map[string]cache.Config{}
	for _, n := range o.Credentials.Namespaces {
		watch[n] = cache.Config{}
	}
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                 testenv.Scheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  credentials.CacheOptions(cache.Options{DefaultNamespaces: watch}, nil),
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := controllers.Setup(ctx, mgr, o); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
}

// keySecret reads the Secret; nil if it does not exist.
func keySecret(t *testing.T, ns string) *corev1.Secret {
	t.Helper()
	sec := &corev1.Secret{}
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: keysSecret}, sec)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

// layout names the Secret's keys as "active=<kid> next=<kid> previous=<kids>".
func layout(t *testing.T, sec *corev1.Secret) string {
	t.Helper()
	if sec == nil {
		return "absent"
	}
	kid := func(name string) string {
		data, ok := sec.Data[name]
		if !ok {
			return "-"
		}
		keys, err := signer.ParsePEM(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return keys[0].ID
	}
	var prev []string
	for name := range sec.Data {
		if strings.HasPrefix(name, "previous-") {
			prev = append(prev, kid(name))
		}
	}
	slices.Sort(prev)
	return "active=" + kid("active.pem") + " next=" + kid("next.pem") + " previous=" + strings.Join(prev, ",")
}

// waitKeys polls the Secret until cond holds on it.
func waitKeys(t *testing.T, ns, what string, cond func(*corev1.Secret) bool) *corev1.Secret {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var sec *corev1.Secret
	for time.Now().Before(deadline) {
		if sec = keySecret(t, ns); cond(sec) {
			return sec
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; Secret: %s", what, layout(t, sec))
	return nil
}

func kidOf(t *testing.T, sec *corev1.Secret, name string) string {
	t.Helper()
	keys, err := signer.ParsePEM(sec.Data[name])
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return keys[0].ID
}

func previousKids(sec *corev1.Secret) []string {
	var kids []string
	for name := range sec.Data {
		if strings.HasPrefix(name, "previous-") {
			kids = append(kids, strings.TrimSuffix(strings.TrimPrefix(name, "previous-"), ".pem"))
		}
	}
	return kids
}

// passedAt waits for a pass of the rotation that read the clock's time
// now (its last-check metric; the fake clock only moves by steps, so no
// earlier pass set that value): what the Secret holds then is what such a
// pass decided.
func passedAt(t *testing.T, ns string, clk clock.PassiveClock) {
	t.Helper()
	at := float64(clk.Now().UnixNano()) / 1e9
	deadline := time.Now().Add(10 * time.Second)
	for gathered(t, "authstack_signing_key_last_check_timestamp_seconds", ns+"/"+keysSecret) != at {
		if time.Now().After(deadline) {
			t.Fatalf("no pass of the rotation at %s", clk.Now())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newClock is the rotation's fake clock.
func newClock() *clocktesting.FakeClock {
	return clocktesting.NewFakeClock(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
}

// TestSigningKeysRotation walks one key through its life: created, a next
// key published before it signs, promoted, the old one kept for the
// retention and then dropped.
func TestSigningKeysRotation(t *testing.T) {
	ns := env.Namespace(t)
	clock := newClock()
	startKeyManager(t, ns, clock)
	// The period is exported, for the key-age alert to compare with.
	if got := gathered(t, "authstack_signing_key_rotation_period_seconds", ns+"/"+keysSecret); got != testPeriod.Seconds() {
		t.Fatalf("rotation period metric %v, want %v", got, testPeriod.Seconds())
	}

	sec := waitKeys(t, ns, "the Secret", func(s *corev1.Secret) bool { return s != nil })
	first := kidOf(t, sec, "active.pem")
	if _, ok := sec.Data["next.pem"]; ok || len(previousKids(sec)) != 0 {
		t.Fatalf("new Secret: %s", layout(t, sec))
	}
	// The Secret loads as a key directory: active.pem signs.
	if _, ok := sec.Data["keys.json"]; !ok {
		t.Fatal("no keys.json")
	}

	// Just before the publish time nothing changes.
	clock.Step(testPeriod - testDelay - time.Minute)
	passedAt(t, ns, clock)
	// The age is the clock's, as of the scrape, pass or no pass: a
	// manager that stopped rotating shows a key older than the period.
	if got := gathered(t, "authstack_signing_key_age_seconds", ns+"/"+keysSecret); got != (testPeriod - testDelay - time.Minute).Seconds() {
		t.Fatalf("key age %vs at the pass, want %v", got, (testPeriod - testDelay - time.Minute).Seconds())
	}
	clock.Step(time.Second)
	if got := gathered(t, "authstack_signing_key_age_seconds", ns+"/"+keysSecret); got != (testPeriod - testDelay - time.Minute + time.Second).Seconds() {
		t.Fatalf("key age %vs a second after the pass, want %v", got, (testPeriod - testDelay - time.Minute + time.Second).Seconds())
	}
	clock.Step(-time.Second)
	if got := keySecret(t, ns); got.ResourceVersion != sec.ResourceVersion {
		t.Fatalf("Secret changed early: %s", layout(t, got))
	}

	// Publish: next.pem appears, active.pem still signs.
	clock.Step(time.Minute)
	sec = waitKeys(t, ns, "next.pem", func(s *corev1.Secret) bool { return s.Data["next.pem"] != nil })
	next := kidOf(t, sec, "next.pem")
	if kidOf(t, sec, "active.pem") != first || next == first {
		t.Fatalf("after publish: %s", layout(t, sec))
	}
	clock.Step(testDelay - time.Second)
	passedAt(t, ns, clock)
	if kidOf(t, keySecret(t, ns), "active.pem") != first {
		t.Fatal("next key promoted before the publish delay")
	}

	// Promote after the publish delay: the old key becomes a previous one.
	clock.Step(time.Second)
	sec = waitKeys(t, ns, "promotion", func(s *corev1.Secret) bool { return s.Data["next.pem"] == nil })
	if kidOf(t, sec, "active.pem") != next || !slices.Equal(previousKids(sec), []string{first}) {
		t.Fatalf("after promotion: %s", layout(t, sec))
	}
	if _, err := signer.ParsePEM(sec.Data["previous-"+first+".pem"]); err != nil {
		t.Fatal(err)
	}
	// The counter moves once the write has returned, which can be after
	// the watch has shown the Secret: wait for it, within a bound.
	got := gathered(t, "authstack_signing_key_rotations_total", ns+"/"+keysSecret)
	for deadline := time.Now().Add(10 * time.Second); got < 1 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		got = gathered(t, "authstack_signing_key_rotations_total", ns+"/"+keysSecret)
	}
	if got != 1 {
		t.Fatalf("rotations_total = %v, want 1", got)
	}

	// The previous key is kept through the retention, then dropped.
	clock.Step(testRetain - time.Minute)
	passedAt(t, ns, clock)
	if got := previousKids(keySecret(t, ns)); !slices.Equal(got, []string{first}) {
		t.Fatalf("previous key dropped early: %v", got)
	}
	clock.Step(time.Minute)
	sec = waitKeys(t, ns, "previous key dropped", func(s *corev1.Secret) bool { return len(previousKids(s)) == 0 })
	if kidOf(t, sec, "active.pem") != next {
		t.Fatalf("after retention: %s", layout(t, sec))
	}
}

// TestSigningKeysSecretDeleted: a deleted Secret is recreated with a new key
// at once (the controller watches it; no pass is due for an hour), even
// when the manager does not watch its own namespace for AuthUsers.
func TestSigningKeysSecretDeleted(t *testing.T) {
	ns, other := env.Namespace(t), env.Namespace(t)
	startKeyManager(t, ns, newClock(), func(o *controllers.Options) {
		o.Credentials.Namespaces = []string{other}
		o.SigningKeys.CheckInterval = time.Hour
	})
	sec := waitKeys(t, ns, "the Secret", func(s *corev1.Secret) bool { return s != nil })
	first := kidOf(t, sec, "active.pem")
	if err := env.Client.Delete(context.Background(), sec); err != nil {
		t.Fatal(err)
	}
	sec = waitKeys(t, ns, "the Secret recreated", func(s *corev1.Secret) bool { return s != nil && s.UID != sec.UID })
	if kidOf(t, sec, "active.pem") == first {
		t.Fatal("recreated with the lost key")
	}
}

// TestSigningKeysMalformed: a Secret with a bad key is left as it is, with
// a Warning event, and is managed again once repaired.
func TestSigningKeysMalformed(t *testing.T) {
	ns := env.Namespace(t)
	clock := newClock()
	bad := &corev1.Secret{}
	bad.Namespace, bad.Name = ns, keysSecret
	bad.Data = map[string][]byte{"active.pem": []byte("garbage")}
	if err := env.Client.Create(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	startKeyManager(t, ns, clock)

	deadline := time.Now().Add(10 * time.Second)
	for {
		var evs eventsv1.EventList
		if err := env.Client.List(context.Background(), &evs, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(evs.Items, func(e eventsv1.Event) bool {
			return e.Reason == "MalformedSigningKeys" && e.Regarding.Name == keysSecret
		}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no MalformedSigningKeys event")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Two passes after the step: the second began after it.
	clock.Step(testPeriod)
	malformed := gathered(t, "authstack_signing_key_errors_total", ns+"/"+keysSecret)
	for deadline := time.Now().Add(10 * time.Second); gathered(t, "authstack_signing_key_errors_total", ns+"/"+keysSecret) < malformed+2; {
		if time.Now().After(deadline) {
			t.Fatal("no pass of the rotation after the step")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := keySecret(t, ns); got.ResourceVersion != bad.ResourceVersion {
		t.Fatalf("malformed Secret was rewritten: %v", got.Data)
	}

	// Repaired by hand (active.pem only): adopted and completed.
	key := authtest.Key(t, signer.AlgES256)
	bad.Data = map[string][]byte{"active.pem": authtest.PEM(t, key)}
	if err := env.Client.Update(context.Background(), bad); err != nil {
		t.Fatal(err)
	}
	sec := waitKeys(t, ns, "keys.json", func(s *corev1.Secret) bool { return s.Data["keys.json"] != nil })
	if kidOf(t, sec, "active.pem") != key.ID {
		t.Fatalf("the repaired key was replaced: %s", layout(t, sec))
	}
}

// TestSigningKeysTwoWriters: two managers writing at once (as during a
// leader hand-over) never replace each other's keys: they write with the
// resourceVersion they read.
func TestSigningKeysTwoWriters(t *testing.T) {
	ns := env.Namespace(t)
	clock := newClock()
	startKeyManager(t, ns, clock)
	startKeyManager(t, ns, clock)
	sec := waitKeys(t, ns, "the Secret", func(s *corev1.Secret) bool { return s != nil })
	first := kidOf(t, sec, "active.pem")
	time.Sleep(5 * testInterval)
	if got := keySecret(t, ns); kidOf(t, got, "active.pem") != first {
		t.Fatal("the active key was replaced")
	}
	clock.Step(testPeriod - testDelay)
	sec = waitKeys(t, ns, "next.pem", func(s *corev1.Secret) bool { return s.Data["next.pem"] != nil })
	next := kidOf(t, sec, "next.pem")
	time.Sleep(5 * testInterval)
	if got := keySecret(t, ns); kidOf(t, got, "next.pem") != next {
		t.Fatal("the published next key was replaced")
	}
	clock.Step(testDelay)
	waitKeys(t, ns, "promotion", func(s *corev1.Secret) bool { return s.Data["next.pem"] == nil })
	time.Sleep(5 * testInterval)
	sec = keySecret(t, ns)
	if kidOf(t, sec, "active.pem") != next || !slices.Equal(previousKids(sec), []string{first}) || sec.Data["next.pem"] != nil {
		t.Fatalf("after promotion by two writers: %s", layout(t, sec))
	}
}

// gathered is the value of the metric family name for the secret label in
// the manager's registry (-1 if absent).
func gathered(t *testing.T, name, secret string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "secret" && l.GetValue() == secret {
					if m.GetCounter() != nil {
						return m.GetCounter().GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}
