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

package controllers

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/controllers/credentials"
	"github.com/authstack/authstack/controllers/signingkeys"
)

// managerMetrics are the metrics of the manager's own that its
// controllers update.
type managerMetrics struct {
	// keys are the signing-key rotation's.
	keys *signingkeys.Metrics
	// epochResets counts the store resets the epoch watcher found.
	epochResets prometheus.Counter
	// login are the login state reflector's.
	login *credentials.LoginStateMetrics
}

// registerMetrics registers every metric of the manager's own with reg
// (controller-runtime registers the reconcile metrics itself): the state of
// AuthUsers and AuthClients, read from cache when scraped, the signing-key
// rotation's, the epoch watcher's and the login state reflector's, which
// it returns for the controllers. A metric an earlier manager of the process registered is
// kept and shared.
func registerMetrics(reg prometheus.Registerer, cache client.Reader) (managerMetrics, error) {
	m := managerMetrics{keys: signingkeys.NewMetrics(), login: credentials.NewLoginStateMetrics(), epochResets: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "authstack_epoch_resets_total",
		Help: "Times the manager found the store's epoch marker gone or replaced: the store lost its data, and every record was rewritten.",
	})}
	keys, login := m.keys, m.login
	var err error
	if _, err = register(reg, credentials.NewStateCollector(cache)); err != nil {
		return m, err
	}
	if login.Writes, err = register(reg, login.Writes); err != nil {
		return m, err
	}
	if login.Pending, err = register(reg, login.Pending); err != nil {
		return m, err
	}
	if keys.Age, err = register(reg, keys.Age); err != nil {
		return m, err
	}
	if keys.Rotations, err = register(reg, keys.Rotations); err != nil {
		return m, err
	}
	if keys.Errors, err = register(reg, keys.Errors); err != nil {
		return m, err
	}
	if keys.Period, err = register(reg, keys.Period); err != nil {
		return m, err
	}
	if keys.Checked, err = register(reg, keys.Checked); err != nil {
		return m, err
	}
	if m.epochResets, err = register(reg, m.epochResets); err != nil {
		return m, err
	}
	return m, nil
}

// register registers c, or returns the collector already registered in
// its place.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var dup prometheus.AlreadyRegisteredError
	if errors.As(err, &dup) {
		if existing, ok := dup.ExistingCollector.(C); ok {
			return existing, nil
		}
		return c, nil
	}
	return c, err
}
