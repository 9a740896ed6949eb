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

package chart

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/authstack/authstack/cmd"
)

// parseArgs parses a container's args (the subcommand, then its flags)
// with the binary's own flags, as it would at start.
func parseArgs(t *testing.T, where string, args []string) *pflag.FlagSet {
	t.Helper()
	if len(args) == 0 {
		t.Fatalf("%s: no args", where)
	}
	sub, rest, err := cmd.NewRoot().Find(args[:1])
	if err != nil || len(rest) > 0 || sub.Name() != args[0] {
		t.Fatalf("%s: %q is not an authstack command: %v", where, args[0], err)
	}
	if err := sub.ParseFlags(args[1:]); err != nil {
		t.Fatalf("%s: authstack %s refuses the args %v: %v", where, args[0], args[1:], err)
	}
	return sub.Flags()
}

// The login-state values become the manager's and the token servers'
// flags, once each, with the binary's defaults unless set.
func TestLoginStateValues(t *testing.T) {
	base := requiredValues
	flags := map[string][]string{
		"Deployment/rel-authstack-manager": {"login-state-sync-period", "login-state-resolution", "login-state-writes-per-second"},
		"Deployment/rel-authstack-server":  {"throttle-state-flush-period"},
	}
	for _, tc := range []struct {
		name string
		set  []string
		want map[string]string // flag: value as the binary prints it; empty: its default
	}{
		{"defaults", nil, nil},
		{"set", []string{
			"manager.loginState.syncPeriod=0s", "manager.loginState.resolution=5m", "manager.loginState.writesPerSecond=0.5",
			"server.throttleStateFlushPeriod=2s",
		}, map[string]string{
			"login-state-sync-period": "0s", "login-state-resolution": "5m0s", "login-state-writes-per-second": "0.5",
			"throttle-state-flush-period": "2s",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := slices.Clone(base)
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			specs := podSpecs(t, render(t, args...))
			for workload, names := range flags {
				spec, ok := specs[workload]
				if !ok {
					t.Fatalf("no %s", workload)
				}
				given := spec.Containers[0].Args
				fs := parseArgs(t, workload, given)
				for _, name := range names {
					f := fs.Lookup(name)
					if n := countFlag(given, name); n != 1 {
						t.Errorf("%s passes --%s %d times, want once: %v", workload, name, n, given)
					}
					want := tc.want[name]
					if want == "" {
						want = f.DefValue
					}
					if got := f.Value.String(); got != want {
						t.Errorf("%s: --%s=%s, want %s", workload, name, got, want)
					}
				}
			}
		})
	}
}

// countFlag counts the args that set --name.
func countFlag(args []string, name string) int {
	n := 0
	for _, a := range args {
		if a == "--"+name || strings.HasPrefix(a, "--"+name+"=") {
			n++
		}
	}
	return n
}
