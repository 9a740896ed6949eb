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

package credentials_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/authstack/authstack/api/v1alpha1"
)

// requestLog counts the manager's API requests by method and path
// ("PATCH /apis/authstack.dev/v1alpha1/namespaces/NS/authusers/alice"), and
// keeps the query of each.
type requestLog struct {
	mu      sync.Mutex
	count   map[string]int
	queries map[string][]string
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		l.mu.Lock()
		if l.count == nil {
			l.count, l.queries = map[string]int{}, map[string][]string{}
		}
		key := r.Method + " " + r.URL.Path
		l.count[key]++
		l.queries[key] = append(l.queries[key], r.URL.RawQuery)
		l.mu.Unlock()
		return rt.RoundTrip(r)
	})
}

func (l *requestLog) of(key string) (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count[key], append([]string(nil), l.queries[key]...)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// reconciles is the AuthUser controller's reconciles so far, every
// manager of the test binary together (tests here run one at a time).
func reconciles(t *testing.T) float64 {
	t.Helper()
	families, err := crmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, f := range families {
		if f.GetName() != "controller_runtime_reconcile_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if labelOf(m, "controller") == "authuser" {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// A new user costs the manager one finalizer patch, one Secret read served
// from the API server's watch cache (at the resourceVersion the manager's
// cache saw), and one status patch, and no Event (its Ready condition
// reports it); a reconcile that changes nothing writes nothing.
func TestNewUserCostsThreeAPIRequestsAndANoOpNone(t *testing.T) {
	log := &requestLog{}
	s := newStack(t, withRequests(log))
	u := s.readyUser("alice", alicePW)
	users := "/apis/authstack.dev/v1alpha1/namespaces/" + s.ns + "/authusers/alice"
	secret := "GET /api/v1/namespaces/" + s.ns + "/secrets/alice-password"
	if n, _ := log.of("PATCH " + users); n != 1 {
		t.Errorf("finalizer patches: %d, want 1", n)
	}
	if n, _ := log.of("PATCH " + users + "/status"); n != 1 {
		t.Errorf("status patches: %d, want 1", n)
	}
	n, queries := log.of(secret)
	if n != 1 {
		t.Errorf("Secret reads: %d, want 1", n)
	}
	for _, q := range queries {
		if !strings.Contains(q, "resourceVersion=") || strings.Contains(q, "resourceVersion=&") || strings.HasSuffix(q, "resourceVersion=") {
			t.Errorf("Secret read %q: want a resourceVersion, so that the watch cache answers it", q)
		}
	}
	if n, _ := log.of("GET " + users); n != 0 {
		t.Errorf("AuthUser GETs: %d, want 0 (the cache answers them)", n)
	}
	events := "POST /apis/events.k8s.io/v1/namespaces/" + s.ns + "/events"

	// A label changes neither the record nor the status: the reconcile it
	// brings writes nothing.
	before := reconciles(t)
	s.patchUser(u.Name, `{"metadata":{"labels":{"team":"blue"}}}`)
	s.eventually("a reconcile of the labelled user", func() (bool, string) {
		return reconciles(t) > before, "no reconcile yet"
	})
	s.ready(u, v1alpha1.ReasonSynced)
	if n, _ := log.of("PATCH " + users + "/status"); n != 1 {
		t.Errorf("status patches after a reconcile that changed nothing: %d, want 1", n)
	}
	if n, _ := log.of("PATCH " + users); n != 1 {
		t.Errorf("patches of the AuthUser after a reconcile that changed nothing: %d, want 1", n)
	}
	if n, _ := log.of(secret); n != 1 {
		t.Errorf("Secret reads after a reconcile that changed nothing: %d, want 1 (the Secret did not change)", n)
	}
	// Events are sent asynchronously: checked last, after the label's
	// reconcile, by when the first Ready's would have been sent.
	if n, _ := log.of(events); n != 0 {
		t.Errorf("Events for a new user's first Ready: %d, want 0", n)
	}
}
