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
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/authserver/throttle"
	"github.com/authstack/authstack/controllers/credentials"
	"github.com/authstack/authstack/internal/store"
	"github.com/authstack/authstack/internal/testing/testenv"
)

// statusPatches is the number of status patches of AuthUsers in ns.
func (l *requestLog) statusPatches(ns string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	prefix := "PATCH /apis/authstack.dev/v1alpha1/namespaces/" + ns + "/authusers/"
	for key, c := range l.count {
		if strings.HasPrefix(key, prefix) && strings.HasSuffix(key, "/status") {
			n += c
		}
	}
	return n
}

// getUser reads the AuthUser from the API server.
func (s *stack) getUser(name string) *v1alpha1.AuthUser {
	s.t.Helper()
	u := &v1alpha1.AuthUser{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: s.ns, Name: name}, u); err != nil {
		s.t.Fatal(err)
	}
	return u
}

// table lists the namespace's AuthUsers as kubectl get does: as a Table
// the API server renders from the CRD's printer columns.
func (s *stack) table() metav1.Table {
	s.t.Helper()
	hc, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		s.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(env.Config.Host, "/")+"/apis/authstack.dev/v1alpha1/namespaces/"+s.ns+"/authusers", nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("Table of AuthUsers: %d %s", resp.StatusCode, body)
	}
	var tbl metav1.Table
	if err := json.Unmarshal(body, &tbl); err != nil {
		s.t.Fatal(err)
	}
	return tbl
}

// cell returns row name's cell of column col, and the column.
func cell(t *testing.T, tbl metav1.Table, name, col string) (any, metav1.TableColumnDefinition) {
	t.Helper()
	for i, c := range tbl.ColumnDefinitions {
		if c.Name != col {
			continue
		}
		for _, r := range tbl.Rows {
			if r.Cells[0] == name {
				return r.Cells[i], c
			}
		}
		t.Fatalf("no row %q in %+v", name, tbl.Rows)
	}
	t.Fatalf("no column %q in %+v", col, tbl.ColumnDefinitions)
	return nil, metav1.TableColumnDefinition{}
}

// The manager reflects a login and a throttle within a sync, kubectl get
// shows them (LAST-LOGIN, and THROTTLED-UNTIL with -o wide), and the
// AuthUser's own reconcile keeps them.
func TestLoginStateReflected(t *testing.T) {
	s := newStack(t,
		withOptions(func(_ *stack, o *credentials.Options) { o.LoginState.SyncPeriod = 200 * time.Millisecond }),
		withServer(func(c *authserver.Config) {
			c.PerUserIP = throttle.Limit{Max: 3, Window: 10 * time.Minute}
			c.ThrottleStateEvery = 50 * time.Millisecond
		}))
	u := s.readyUser("alice", alicePW)
	before := time.Now().Truncate(time.Second)
	s.mustLogin("alice", alicePW)
	s.eventually("alice's last login in her status", func() (bool, string) {
		u = s.getUser("alice")
		return u.Status.LastLoginTime != nil, "no lastLoginTime"
	})
	if at := u.Status.LastLoginTime.Time; at.Before(before) || at.After(time.Now()) {
		t.Fatalf("lastLoginTime %v, want between %v and now", at, before)
	}

	for i := range 4 {
		code, _ := s.login("alice", "guess")
		if want := map[bool]int{true: http.StatusTooManyRequests, false: http.StatusBadRequest}[i == 3]; code != want {
			t.Fatalf("guess %d: %d, want %d", i+1, code, want)
		}
	}
	s.eventually("alice's throttle in her status", func() (bool, string) {
		u = s.getUser("alice")
		return u.Status.Throttle != nil, "no throttle"
	})
	if th := u.Status.Throttle; th.Limit != "user_ip" || !th.Until.After(time.Now()) || th.Until.After(time.Now().Add(10*time.Minute)) {
		t.Fatalf("throttle %+v, want user_ip until the end of the 10-minute window", th)
	}

	tbl := s.table()
	last, col := cell(t, tbl, "alice", "Last-Login")
	if col.Type != "date" || col.Priority != 0 || !regexp.MustCompile(`^\d+[smh]`).MatchString(fmt.Sprint(last)) {
		t.Errorf("LAST-LOGIN %q (column %+v), want an age shown by default", last, col)
	}
	until, col := cell(t, tbl, "alice", "Throttled-Until")
	if col.Priority != 1 || until != u.Status.Throttle.Until.UTC().Format(time.RFC3339) {
		t.Errorf("THROTTLED-UNTIL %q (column %+v), want %s under -o wide", until, col, u.Status.Throttle.Until.UTC().Format(time.RFC3339))
	}

	// A reconcile (a label brings one) writes its own status fields only.
	n := reconciles(t)
	s.patchUser(u.Name, `{"metadata":{"labels":{"team":"blue"}}}`)
	s.eventually("a reconcile of the labelled user", func() (bool, string) { return reconciles(t) > n, "no reconcile yet" })
	s.ready(u, v1alpha1.ReasonSynced)
	if u = s.getUser("alice"); u.Status.LastLoginTime == nil || u.Status.Throttle == nil {
		t.Fatalf("after a reconcile the status lost the login state: %+v", u.Status)
	}
}

// The reflector writes within its budget, a sync at a time, the statuses
// most behind first, and what it leaves is written by later syncs; it
// writes nothing when nothing changed or a login advanced less than the
// resolution, and clears a throttle once it has ended.
func TestLoginStateWriteBudget(t *testing.T) {
	const users, perSync = 200, 50
	s := newStack(t, withOptions(func(_ *stack, o *credentials.Options) { o.LoginState.SyncPeriod = -1 })) // synced by hand
	ctx := context.Background()
	for i := range users {
		name := fmt.Sprintf("user%03d", i)
		s.secret(name+"-password", map[string]string{"password": alicePW})
		s.user(name)
	}
	held := func(f func(u *v1alpha1.AuthUser) bool) int {
		var list v1alpha1.AuthUserList
		if err := s.cache.List(ctx, &list, client.InNamespace(s.ns)); err != nil {
			t.Fatal(err)
		}
		n := 0
		for i := range list.Items {
			if f(&list.Items[i]) {
				n++
			}
		}
		return n
	}
	s.eventually("every user holding its name, in the manager's cache", func() (bool, string) {
		n := held(func(u *v1alpha1.AuthUser) bool { return u.Status.Username != "" })
		return n == users, fmt.Sprintf("%d of %d", n, users)
	})

	log := &requestLog{}
	cfg := rest.CopyConfig(env.Config)
	cfg.Wrap(log.wrap)
	w, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	clk := clocktesting.NewFakeClock(time.Now())
	m := credentials.NewLoginStateMetrics()
	// perSync writes a sync: 1000 a second for 50 ms.
	r := credentials.NewLoginStateReflector(s.store, s.cache, w, credentials.LoginStateOptions{
		SyncPeriod: 50 * time.Millisecond, WritesPerSecond: 1000, Metrics: m,
	}, clk)
	// sync runs one sync and waits until the cache has seen its writes.
	sync := func(wantWrites int) {
		t.Helper()
		was := log.statusPatches(s.ns)
		r.Sync(ctx)
		if got := log.statusPatches(s.ns) - was; got != wantWrites {
			t.Fatalf("a sync wrote %d statuses, want %d", got, wantWrites)
		}
	}
	for i := range users {
		if err := s.store.RecordLogin(ctx, fmt.Sprintf("user%03d", i), clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for written := perSync; written <= users; written += perSync {
		sync(perSync)
		if got := testutil.ToFloat64(m.Pending); got != float64(users-written) {
			t.Errorf("pending after %d writes: %v, want %d", written, got, users-written)
		}
		s.eventually("the cache to see the writes", func() (bool, string) {
			n := held(func(u *v1alpha1.AuthUser) bool { return u.Status.LastLoginTime != nil })
			return n == written, fmt.Sprintf("%d of %d", n, written)
		})
	}
	sync(0) // nothing changed
	if got := testutil.ToFloat64(m.Writes.WithLabelValues("success")); got != users {
		t.Errorf("writes counted: %v, want %d", got, users)
	}
	u0 := s.getUser("user000")
	if at := u0.Status.LastLoginTime; at == nil || !at.Time.Equal(clk.Now().Truncate(time.Second)) {
		t.Fatalf("user000's lastLoginTime %v, want %v", at, clk.Now().Truncate(time.Second))
	}

	// A login 30 s later is within the resolution: not written. Two
	// minutes later, it is.
	clk.Step(30 * time.Second)
	if err := s.store.RecordLogin(ctx, "user000", clk.Now()); err != nil {
		t.Fatal(err)
	}
	sync(0)
	clk.Step(90 * time.Second)
	if err := s.store.RecordLogin(ctx, "user000", clk.Now()); err != nil {
		t.Fatal(err)
	}
	sync(1)
	if at := s.getUser("user000").Status.LastLoginTime; at == nil || !at.Time.Equal(clk.Now().Truncate(time.Second)) {
		t.Fatalf("user000's lastLoginTime %v, want %v", at, clk.Now().Truncate(time.Second))
	}
	s.eventually("the cache to see user000's login", func() (bool, string) {
		n := held(func(u *v1alpha1.AuthUser) bool {
			return u.Name == "user000" && u.Status.LastLoginTime != nil && u.Status.LastLoginTime.Time.Equal(clk.Now().Truncate(time.Second))
		})
		return n == 1, "not yet"
	})

	// A throttle ending in 10.5 s is shown until the next second, then
	// cleared once it has ended.
	until := clk.Now().Add(10*time.Second + 500*time.Millisecond)
	if err := s.store.RecordThrottles(ctx, map[string]store.Throttle{"user001": {Until: until, Limit: "user_rate"}}, clk.Now()); err != nil {
		t.Fatal(err)
	}
	sync(1)
	th := s.getUser("user001").Status.Throttle
	if want := until.Truncate(time.Second).Add(time.Second); th == nil || th.Limit != "user_rate" || !th.Until.Time.Equal(want) {
		t.Fatalf("user001's throttle %+v, want user_rate until %v", th, want)
	}
	s.eventually("the cache to see user001's throttle", func() (bool, string) {
		return held(func(u *v1alpha1.AuthUser) bool { return u.Name == "user001" && u.Status.Throttle != nil }) == 1, "not yet"
	})
	sync(0)
	clk.Step(11 * time.Second)
	sync(1)
	if th := s.getUser("user001").Status.Throttle; th != nil {
		t.Fatalf("user001's throttle %+v after it ended, want none", th)
	}
	if u := s.getUser("user001"); u.Status.LastLoginTime == nil {
		t.Fatalf("clearing the throttle cleared the last login: %+v", u.Status)
	}
	s.eventually("the cache to see user001's throttle cleared", func() (bool, string) {
		return held(func(u *v1alpha1.AuthUser) bool { return u.Name == "user001" && u.Status.Throttle == nil }) == 1, "not yet"
	})
	sync(0)
}
