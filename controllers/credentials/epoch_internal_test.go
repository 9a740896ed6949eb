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
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	redisstore "github.com/authstack/authstack/internal/store/redis"
	"github.com/authstack/authstack/internal/testing/redistest"
)

// The epoch watcher counts every store reset it finds, once each: the
// marker gone (it writes a new one) or replaced by another writer; not
// the first marker it sees, nor a reset whose resync failed and is
// retried.
func TestEpochWatcherCountsResets(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redisstore.New(t.Context(), redisstore.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	resets := prometheus.NewCounter(prometheus.CounterOpts{Name: "resets"})
	resyncs, failResync := 0, false
	w := &epochWatcher{store: st, log: logr.Discard(), resets: resets, resync: func(context.Context) error {
		resyncs++
		if failResync {
			return errors.New("API server unreachable")
		}
		return nil
	}}
	ctx := t.Context()
	check := func(what string, wantResets float64, wantErr bool) {
		t.Helper()
		if err := w.check(ctx); (err != nil) != wantErr {
			t.Fatalf("%s: check: %v", what, err)
		}
		if got := testutil.ToFloat64(resets); got != wantResets {
			t.Fatalf("%s: %v resets counted, want %v", what, got, wantResets)
		}
	}
	check("an empty store's first marker", 0, false)
	check("no change", 0, false)

	srv.FlushAll() // the data is lost
	check("the marker gone", 1, false)
	check("no change after the reset", 1, false)

	cur, err := st.GetEpoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReplaceEpoch(ctx, cur, "replaced-by-a-server"); err != nil {
		t.Fatal(err)
	}
	check("the marker replaced", 2, false)

	srv.FlushAll()
	failResync = true
	check("a reset whose resync fails", 3, true)
	failResync = false
	check("its resync retried", 3, false)
	if resyncs != 5 {
		t.Fatalf("%d resyncs, want 5: the first check, three resets and one retry", resyncs)
	}
}
