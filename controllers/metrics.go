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

// registerMetrics registers every metric of the manager's own with reg
// (controller-runtime registers the reconcile metrics itself): the state of
// AuthUsers and AuthClients, read from cache when scraped, the login state
// reflector's, which it returns for that, and the signing-key rotation's,
// which it returns for the signing-keys controller. A metric an earlier
// manager of the process registered is kept and shared.
func registerMetrics(reg prometheus.Registerer, cache client.Reader) (*signingkeys.Metrics, *credentials.LoginStateMetrics, error) {
	keys, login := signingkeys.NewMetrics(), credentials.NewLoginStateMetrics()
	var err error
	if _, err = register(reg, credentials.NewStateCollector(cache)); err != nil {
		return nil, nil, err
	}
	if login.Writes, err = register(reg, login.Writes); err != nil {
		return nil, nil, err
	}
	if login.Pending, err = register(reg, login.Pending); err != nil {
		return nil, nil, err
	}
	if keys.Age, err = register(reg, keys.Age); err != nil {
		return nil, nil, err
	}
	if keys.Rotations, err = register(reg, keys.Rotations); err != nil {
		return nil, nil, err
	}
	if keys.Errors, err = register(reg, keys.Errors); err != nil {
		return nil, nil, err
	}
	return keys, login, nil
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
