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
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/authserver"
	"github.com/authstack/authstack/controllers"
	"github.com/authstack/authstack/controllers/credentials"
	"github.com/authstack/authstack/internal/mirror"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store"
	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/authtest"
	"github.com/authstack/authstack/internal/testing/redistest"
	"github.com/authstack/authstack/internal/testing/testenv"
)

// stack is one test's world: a namespace in the shared API server, a real
// redis-server, a manager watching only that namespace, and a token server
// in process on the same Redis.
type stack struct {
	t  *testing.T
	ns string
	// nss are the namespaces the manager watches: ns first.
	nss    []string
	redis  *redistest.Server
	store  store.Store
	server http.Handler
	mirror *mirror.Mirror
	cache  cache.Cache // the manager's
}

// stackConfig varies a stack: more namespaces for the manager to watch,
// and options of its own.
type stackConfig struct {
	namespaces int
	options    func(s *stack, o *credentials.Options)
	requests   *requestLog
	server     func(c *authserver.Config)
}

type stackOption func(*stackConfig)

// withNamespaces has the manager watch n namespaces (s.nss) instead of one.
func withNamespaces(n int) stackOption { return func(c *stackConfig) { c.namespaces = n } }

// withRequests records the manager's API requests in l.
func withRequests(l *requestLog) stackOption { return func(c *stackConfig) { c.requests = l } }

// withServer changes the token server's configuration.
func withServer(f func(c *authserver.Config)) stackOption {
	return func(c *stackConfig) { c.server = f }
}

// withOptions changes the manager's options.
func withOptions(f func(s *stack, o *credentials.Options)) stackOption {
	return func(c *stackConfig) { c.options = f }
}

func newStack(t *testing.T, opts ...stackOption) *stack {
	t.Helper()
	cfg := stackConfig{namespaces: 1}
	for _, o := range opts {
		o(&cfg)
	}
	s := &stack{t: t, redis: redistest.Start(t)}
	watch := map[string]cache.Config{}
	for range cfg.namespaces {
		ns := env.Namespace(t)
		s.nss = append(s.nss, ns)
		watch[ns] = cache.Config{}
	}
	s.ns = s.nss[0]
	s.store = s.connect()
	o := credentials.Options{
		Store: s.connect(), HashParams: authtest.FastParams, EpochInterval: 200 * time.Millisecond,
		OrphanInterval: 300 * time.Millisecond, Namespaces: s.nss,
	}
	if cfg.options != nil {
		cfg.options(s, &o)
	}
	restCfg := env.Config
	if cfg.requests != nil {
		restCfg = rest.CopyConfig(env.Config)
		restCfg.Wrap(cfg.requests.wrap)
	}
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 testenv.Scheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  credentials.CacheOptions(cache.Options{DefaultNamespaces: watch}, o.SecretSelector),
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := controllers.Setup(ctx, mgr, controllers.Options{Credentials: o}); err != nil {
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
	ks := authtest.KeySet(t, signer.AlgES256)
	scfg := authserver.Config{
		Issuer: "https://auth.test", Store: s.connect(), Keys: signer.Static(ks),
		PublicClientID: "default", HashParams: authtest.FastParams,
	}
	if cfg.server != nil {
		cfg.server(&scfg)
	}
	srv, err := authserver.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	s.server, s.mirror = srv.Handler(), srv.Mirror()
	bg, stopMirror := context.WithCancel(context.Background())
	t.Cleanup(stopMirror)
	srv.Start(bg)
	s.cache = mgr.GetCache()
	return s
}

// connect opens a client of the test's Redis.
func (s *stack) connect() store.Store {
	st, err := redisstore.New(context.Background(), redisstore.Options{URL: s.redis.URL()})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { st.Close() })
	return st
}

func (s *stack) secret(name string, data map[string]string) *corev1.Secret {
	s.t.Helper()
	return s.secretIn(s.ns, name, data)
}

func (s *stack) secretIn(ns, name string, data map[string]string) *corev1.Secret {
	s.t.Helper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	if err := env.Client.Create(context.Background(), sec); err != nil {
		s.t.Fatal(err)
	}
	return sec
}

// setSecret replaces the Secret's data.
func (s *stack) setSecret(name string, data map[string]string) {
	s.t.Helper()
	sec := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: s.ns, Name: name}, sec); err != nil {
		s.t.Fatal(err)
	}
	sec.Data, sec.StringData = nil, data
	if err := env.Client.Update(context.Background(), sec); err != nil {
		s.t.Fatal(err)
	}
}

// user creates an AuthUser reading the password from Secret secretName.
func (s *stack) user(name string, mutate ...func(*v1alpha1.AuthUser)) *v1alpha1.AuthUser {
	s.t.Helper()
	return s.userIn(s.ns, name, mutate...)
}

func (s *stack) userIn(ns, name string, mutate ...func(*v1alpha1.AuthUser)) *v1alpha1.AuthUser {
	s.t.Helper()
	u := &v1alpha1.AuthUser{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.AuthUserSpec{
			PasswordSecretRef: &v1alpha1.PasswordSecretRef{Name: name + "-password"},
			Scopes:            []string{"read"},
			Groups:            []string{"staff"},
		},
	}
	for _, m := range mutate {
		m(u)
	}
	if err := env.Client.Create(context.Background(), u); err != nil {
		s.t.Fatal(err)
	}
	return u
}

// readyUser creates the AuthUser name with its Secret name+"-password"
// holding pw, and waits until it is Synced.
func (s *stack) readyUser(name, pw string) *v1alpha1.AuthUser {
	s.t.Helper()
	s.secret(name+"-password", map[string]string{"password": pw})
	u := s.user(name)
	s.ready(u, v1alpha1.ReasonSynced)
	return u
}

// patchUser applies a merge patch to the AuthUser and returns the
// resourceVersion the patch produced.
func (s *stack) patchUser(name, patch string) string {
	s.t.Helper()
	return s.patchUserIn(s.ns, name, patch)
}

func (s *stack) patchUserIn(ns, name, patch string) string {
	s.t.Helper()
	u := &v1alpha1.AuthUser{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if err := env.Client.Patch(context.Background(), u, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		s.t.Fatal(err)
	}
	return u.ResourceVersion
}

// eventually polls cond until it holds, failing the test after 20 s.
func (s *stack) eventually(what string, cond func() (bool, string)) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("timed out waiting for %s; last state: %s", what, last)
}

// ready waits until the object's Ready condition has the reason, for its
// current generation, and returns the condition.
func (s *stack) ready(obj client.Object, reason string) metav1.Condition {
	s.t.Helper()
	var got metav1.Condition
	s.eventually(obj.GetName()+" Ready reason "+reason, func() (bool, string) {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, err.Error()
		}
		var conds []metav1.Condition
		var observed int64
		switch o := obj.(type) {
		case *v1alpha1.AuthUser:
			conds, observed = o.Status.Conditions, o.Status.ObservedGeneration
		case *v1alpha1.AuthClient:
			conds, observed = o.Status.Conditions, o.Status.ObservedGeneration
		}
		c := meta.FindStatusCondition(conds, v1alpha1.ConditionTypeReady)
		if c == nil {
			return false, "no Ready condition"
		}
		got = *c
		return c.Reason == reason && c.ObservedGeneration == obj.GetGeneration() &&
			(reason == v1alpha1.ReasonStoreUnavailable || observed == obj.GetGeneration()), c.Reason + ": " + c.Message
	})
	return got
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	Error       string `json:"error"`
}

// login runs the password grant on the token server.
//
// A 503 is retried, as a client honouring Retry-After does: the server
// fails closed when its per-test Redis answers late, which a loaded CI
// machine makes happen; no test here is about that answer, and a 503 is
// never taken for any other.
func (s *stack) login(username, pw string, extra ...string) (int, tokenResponse) {
	s.t.Helper()
	form := url.Values{"grant_type": {"password"}, "username": {username}, "password": {pw}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	for try := 1; ; try++ {
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "192.0.2.1:1234"
		rec := httptest.NewRecorder()
		s.server.ServeHTTP(rec, req)
		var tr tokenResponse
		_ = json.Unmarshal(rec.Body.Bytes(), &tr)
		if rec.Code != http.StatusServiceUnavailable || try == 5 {
			return rec.Code, tr
		}
		s.t.Logf("login %s: 503 %s, retrying", username, tr.Error)
		time.Sleep(time.Duration(try) * 100 * time.Millisecond)
	}
}

// mustLogin waits until the login succeeds and returns the token.
func (s *stack) mustLogin(username, pw string) string {
	s.t.Helper()
	var tok string
	s.eventually(username+" can log in", func() (bool, string) {
		code, tr := s.login(username, pw)
		tok = tr.AccessToken
		return code == http.StatusOK, tr.Error
	})
	return tok
}

// userinfo presents the token to /userinfo and returns the status code,
// once the server's revocation mirror holds every change written so far.
func (s *stack) userinfo(tok string) int {
	mark := s.mirror.Mark()
	deadline := time.Now().Add(10 * time.Second)
	for !s.mirror.CaughtUp(mark) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	req := httptest.NewRequest(http.MethodGet, "/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	s.server.ServeHTTP(rec, req)
	return rec.Code
}

func (s *stack) record(username string) (store.User, error) {
	return s.store.GetUser(context.Background(), username)
}
