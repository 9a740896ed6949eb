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

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/internal/store"
)

// LoginStateReflector is the login state reflector, for the package's
// tests to sync by hand.
type LoginStateReflector struct{ r *loginStateReflector }

// NewLoginStateReflector returns a reflector reading st and c (a
// manager's cache), writing with w, by clk.
func NewLoginStateReflector(st store.Activity, c cache.Cache, w client.Client, o LoginStateOptions, clk clock.PassiveClock) *LoginStateReflector {
	return &LoginStateReflector{r: newLoginStateReflector(st, c, w, o, clk, logr.Discard())}
}

// Sync runs one sync.
func (l *LoginStateReflector) Sync(ctx context.Context) { l.r.sync(ctx) }
