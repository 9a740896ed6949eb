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
	"crypto/rand"
	"errors"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/authstack/authstack/internal/store"
)

// epochWatcher notices when the store lost its data. It owns an epoch marker
// key: written once into an empty store, it disappears with everything else
// on a restart without persistence, a FLUSHALL or a failover to an empty
// replica. Finding it gone (or replaced), the watcher writes a new one and
// has every AuthUser and AuthClient reconciled, which rewrites their records.
type epochWatcher struct {
	store    store.Epochs
	interval time.Duration
	resync   func(ctx context.Context) error
	log      logr.Logger
	// resets, if set, counts the resets seen: the marker gone (the watcher
	// writes a new one) or replaced (a token server's mirror wrote it
	// first, or replaced it after a rollback) after one was known.
	resets prometheus.Counter
	known  string
	// counted is the last new marker counted in resets, so that a marker
	// whose resync failed and is retried counts once.
	counted string
}

// Start checks the marker every interval until ctx ends. It runs on the
// leader only (the manager's default for runnables).
func (w *epochWatcher) Start(ctx context.Context) error {
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		if err := w.check(ctx); err != nil && ctx.Err() == nil {
			w.log.Info("Cannot check the store's epoch", "error", err.Error())
		}
	}, w.interval)
	return nil
}

// check compares the marker with the one last seen and resyncs on a change.
func (w *epochWatcher) check(ctx context.Context) error {
	cur, err := w.store.GetEpoch(ctx)
	if errors.Is(err, store.ErrNotFound) {
		if cur, err = w.store.InitEpoch(ctx, rand.Text()); err != nil {
			return err
		}
		if w.known != "" {
			w.log.Info("The store lost its data: rewriting every record")
		}
	} else if err != nil {
		return err
	}
	if cur == w.known {
		return nil
	}
	if w.known != "" && cur != w.counted {
		w.counted = cur
		if w.resets != nil {
			w.resets.Inc()
		}
	}
	// A first, new or replaced marker: any record may be missing. On the
	// first check this repeats the initial reconcile, which costs reads only.
	if err := w.resync(ctx); err != nil {
		return err
	}
	w.known = cur
	return nil
}
