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
	"cmp"
	"context"
	"encoding/json"
	"math"
	"slices"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/clocks"
	"github.com/authstack/authstack/internal/records"
	"github.com/authstack/authstack/internal/store"
)

// Defaults of LoginStateOptions.
const (
	DefaultLoginStateSyncPeriod = 30 * time.Second
	DefaultLoginStateResolution = time.Minute
	// DefaultLoginStateWritesPerSecond is 300 status patches a minute at
	// most, whatever the number of users: a sixth of the rate the
	// manager's reconcile retries may take (rateLimiter), a small share of
	// one priority level of the API server's, and, each write being one
	// AuthUser's update for every watcher, far below what etcd and the
	// watchers carry.
	DefaultLoginStateWritesPerSecond = 5
)

// LoginStateOptions configure how the users' login state (the last login
// and the throttle the token servers recorded, store.Activity) is
// reflected in each AuthUser's status.
type LoginStateOptions struct {
	// SyncPeriod is how often the store is read (DefaultLoginStateSyncPeriod
	// when zero; negative: never, the status shows no login state).
	SyncPeriod time.Duration
	// Resolution is the least advance of a last login that is written
	// (DefaultLoginStateResolution when zero): the status's LAST-LOGIN lags
	// the store by less than that.
	Resolution time.Duration
	// WritesPerSecond bounds the status patches
	// (DefaultLoginStateWritesPerSecond when zero); a sync writes at most
	// one period's worth, paced, and leaves the rest for later syncs.
	WritesPerSecond float64
	// Metrics count the writes and what is left to write; unregistered
	// ones when nil.
	Metrics *LoginStateMetrics
}

// LoginStateMetrics are the reflector's figures.
type LoginStateMetrics struct {
	// Writes counts status patches by outcome (success, error).
	Writes *prometheus.CounterVec
	// Pending is the AuthUsers whose status is behind the store's login
	// state after the last sync (the write budget left them for later).
	Pending prometheus.Gauge
}

// NewLoginStateMetrics returns the reflector's collectors, unregistered.
func NewLoginStateMetrics() *LoginStateMetrics {
	return &LoginStateMetrics{
		Writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "authstack_login_state_writes_total",
			Help: "AuthUser status patches of the last login and the throttle, by outcome (success, error).",
		}, []string{"outcome"}),
		Pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "authstack_login_state_pending",
			Help: "AuthUsers whose last login or throttle in status is behind the store's, left by the write budget for a later sync.",
		}),
	}
}

func (o LoginStateOptions) withDefaults() LoginStateOptions {
	if o.SyncPeriod == 0 {
		o.SyncPeriod = DefaultLoginStateSyncPeriod
	}
	if o.Resolution <= 0 {
		o.Resolution = DefaultLoginStateResolution
	}
	if o.WritesPerSecond <= 0 {
		o.WritesPerSecond = DefaultLoginStateWritesPerSecond
	}
	if o.Metrics == nil {
		o.Metrics = NewLoginStateMetrics()
	}
	return o
}

// perSync is the most writes one sync makes: one period's worth of the
// budget, so that a sync never runs into the next.
func (o LoginStateOptions) perSync() int {
	return max(1, int(math.Ceil(o.WritesPerSecond*o.SyncPeriod.Seconds())))
}

// loginStateOverlap is how far before the last read's time the next read
// starts: a login recorded by a token server whose clock is behind the
// manager's, or whose write was still on its way, is read all the same.
// Logins read twice are written once (only an advance is).
const loginStateOverlap = 5 * time.Second

// loginStateReflector writes each AuthUser's last login and throttle, as
// the token servers recorded them in the store, into its status, at a
// bounded rate of API writes. It runs on the leader only. Each sync reads
// the logins since the last one and the throttles in force, finds the
// AuthUser holding each username (status.username), and patches the status
// of those whose last login advanced by at least the resolution or whose
// throttle changed (set, or cleared once it ended): throttle changes
// first, then the users whose status is the most behind. Writes wait for
// a token bucket; what a sync does not write is kept and written by a
// later one.
type loginStateReflector struct {
	store  store.Activity
	cache  client.Reader // the manager's: AuthUsers
	client client.Client // writes status
	opts   LoginStateOptions
	limit  *rate.Limiter
	clock  clock.PassiveClock
	log    logr.Logger
	synced func(ctx context.Context) bool

	// since is where the next read of logins starts (zero: every login
	// recorded); logins are those read and not written yet.
	since  time.Time
	logins map[string]time.Time
}

func newLoginStateReflector(st store.Activity, c cache.Cache, w client.Client, o LoginStateOptions, clk clock.PassiveClock, log logr.Logger) *loginStateReflector {
	o = o.withDefaults()
	return &loginStateReflector{store: st, cache: c, client: w, opts: o, log: log, synced: c.WaitForCacheSync,
		limit: rate.NewLimiter(rate.Limit(o.WritesPerSecond), 1), clock: clocks.Or(clk), logins: map[string]time.Time{}}
}

// Start syncs once the cache has synced, then every period (not counting
// the sync's own time) until ctx ends.
func (r *loginStateReflector) Start(ctx context.Context) error {
	if !r.synced(ctx) {
		return nil
	}
	wait.NonSlidingUntilWithContext(ctx, r.sync, r.opts.SyncPeriod)
	return nil
}

// loginChange is one AuthUser's status patch.
type loginChange struct {
	key      types.NamespacedName
	username string
	// lastLogin, if set, is the new last login.
	lastLogin *metav1.Time
	// throttle is set with setThrottle: the throttle in force, or nil to
	// clear it.
	setThrottle bool
	throttle    *v1alpha1.AuthUserThrottle
	// was is the status's last login, which orders the changes.
	was *metav1.Time
}

// patch is the merge patch of the status fields that change.
func (c loginChange) patch() ([]byte, error) {
	st := map[string]any{}
	if c.lastLogin != nil {
		st["lastLoginTime"] = c.lastLogin
	}
	if c.setThrottle {
		st["throttle"] = c.throttle // nil: null, which removes it
	}
	return json.Marshal(map[string]any{"status": st})
}

// loginStateChange is what u's status needs to show the login state the
// store holds at now: login is the user's last login read (zero: none
// since the last write), th its throttle in force (nil: none). ok is false
// when nothing is due. A last login is written when it advanced by at
// least resolution, truncated to the second and never later than now (a
// token server's clock ahead of the manager's would show it in the
// future); a throttle ends at its Retry-After's end, rounded up to the
// second.
func loginStateChange(u *v1alpha1.AuthUser, login time.Time, th *store.Throttle, now time.Time, resolution time.Duration) (loginChange, bool) {
	c := loginChange{key: client.ObjectKeyFromObject(u), username: u.Status.Username, was: u.Status.LastLoginTime}
	if !login.IsZero() {
		if login.After(now) {
			login = now
		}
		if was := u.Status.LastLoginTime; was == nil || login.Sub(was.Time) >= resolution {
			t := metav1.NewTime(login.Truncate(time.Second))
			c.lastLogin = &t
		}
	}
	if th != nil && th.Until.After(now) && (th.Limit == v1alpha1.ThrottleLimitUserIP || th.Limit == v1alpha1.ThrottleLimitUserRate) {
		until := th.Until.Truncate(time.Second)
		if until.Before(th.Until) {
			until = until.Add(time.Second)
		}
		if cur := u.Status.Throttle; cur == nil || !cur.Until.Time.Equal(until) || cur.Limit != th.Limit {
			c.setThrottle, c.throttle = true, &v1alpha1.AuthUserThrottle{Until: metav1.NewTime(until), Limit: th.Limit}
		}
	} else if u.Status.Throttle != nil {
		c.setThrottle = true
	}
	return c, c.lastLogin != nil || c.setThrottle
}

// before orders changes: throttle changes first, then the status most
// behind (no last login first), then by name.
func (c loginChange) before(o loginChange) int {
	if c.setThrottle != o.setThrottle {
		if c.setThrottle {
			return -1
		}
		return 1
	}
	switch {
	case c.was == nil && o.was != nil:
		return -1
	case c.was != nil && o.was == nil:
		return 1
	case c.was != nil && !c.was.Equal(o.was):
		return c.was.Compare(o.was.Time)
	}
	return cmp.Compare(c.username, o.username)
}

// holders maps each username to the AuthUser holding it: its status names
// it, it still wants it, and it is not being deleted; of several (a race
// left them), the oldest, as the holder rule picks.
func holders(users []v1alpha1.AuthUser) map[string]*v1alpha1.AuthUser {
	out := make(map[string]*v1alpha1.AuthUser, len(users))
	for i := range users {
		u := &users[i]
		name := u.Status.Username
		if name == "" || u.EffectiveUsername() != name || !u.DeletionTimestamp.IsZero() {
			continue
		}
		if o := out[name]; o == nil || older(&claimant{source: records.Source(u), created: u.CreationTimestamp},
			&claimant{source: records.Source(o), created: o.CreationTimestamp}) {
			out[name] = u
		}
	}
	return out
}

// sync reads the store's login state and writes what is due, within the
// budget.
func (r *loginStateReflector) sync(ctx context.Context) {
	now := r.clock.Now()
	act, err := r.store.ReadActivity(ctx, r.since, now)
	if err != nil {
		r.log.Info("Cannot read the users' login state", "error", err.Error())
		return
	}
	r.since = now.Add(-loginStateOverlap)
	for name, at := range act.Logins {
		if old, ok := r.logins[name]; !ok || at.After(old) {
			r.logins[name] = at
		}
	}
	var users v1alpha1.AuthUserList
	// Read only: the cache's objects are not copied.
	if err := r.cache.List(ctx, &users, client.UnsafeDisableDeepCopy); err != nil {
		r.log.Info("Cannot list AuthUsers for their login state", "error", err.Error())
		return
	}
	held := holders(users.Items)
	var due []loginChange
	for name := range r.logins {
		if held[name] == nil {
			delete(r.logins, name) // nobody holds it (any more)
		}
	}
	for name, u := range held {
		var th *store.Throttle
		if t, ok := act.Throttles[name]; ok {
			th = &t
		}
		c, ok := loginStateChange(u, r.logins[name], th, now, r.opts.Resolution)
		if !ok {
			delete(r.logins, name)
			continue
		}
		due = append(due, c)
	}
	slices.SortFunc(due, loginChange.before)
	left := len(due)
	// Paced by the bucket: a period's worth takes about a period.
	for _, c := range due[:min(len(due), r.opts.perSync())] {
		if r.limit.Wait(ctx) != nil {
			break
		}
		if err := r.write(ctx, c); err != nil {
			r.opts.Metrics.Writes.WithLabelValues("error").Inc()
			r.log.Info("Cannot write an AuthUser's login state", "authuser", c.key.String(), "error", err.Error())
			continue
		}
		r.opts.Metrics.Writes.WithLabelValues("success").Inc()
		delete(r.logins, c.username)
		left--
	}
	r.opts.Metrics.Pending.Set(float64(left))
}

// write patches the status; an AuthUser gone meanwhile needs nothing.
func (r *loginStateReflector) write(ctx context.Context, c loginChange) error {
	body, err := c.patch()
	if err != nil {
		return err
	}
	u := &v1alpha1.AuthUser{ObjectMeta: metav1.ObjectMeta{Namespace: c.key.Namespace, Name: c.key.Name}}
	err = r.client.Status().Patch(ctx, u, client.RawPatch(types.MergePatchType, body))
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
