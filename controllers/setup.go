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
	"context"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/authstack/authstack/controllers/credentials"
	"github.com/authstack/authstack/controllers/signingkeys"
)

// Options configure the controllers Setup registers.
type Options struct {
	Credentials credentials.Options
	// SigningKeys, when Name is set, has the manager own the token
	// servers' signing-keys Secret (docs/signing-keys.md).
	SigningKeys signingkeys.Options
}

// Setup registers the manager's controllers and metrics with mgr.
func Setup(ctx context.Context, mgr ctrl.Manager, o Options) error {
	m, err := registerMetrics(metrics.Registry, mgr.GetClient())
	if err != nil {
		return err
	}
	o.Credentials.EpochResets = m.epochResets
	o.Credentials.LoginState.Metrics = m.login
	if err := credentials.Setup(ctx, mgr, o.Credentials); err != nil {
		return err
	}
	return signingkeys.Setup(mgr, o.SigningKeys, m.keys)
}
