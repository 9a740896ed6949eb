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

package cmd

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/authstack/authstack/controllers"
	"github.com/authstack/authstack/internal/userstatus"
)

// statusOptions are the flags of `authstack status`.
type statusOptions struct {
	kubeconfig, context, namespace string
	allNamespaces                  bool
	output                         string
}

// The exit codes of `authstack status`.
const (
	statusBlocked = 1 // something stops the user
	statusError   = 2 // an error, or no answer (a namespace could not be read)
)

func newStatusCommand(clk clock.PassiveClock) *cobra.Command {
	o := &statusOptions{}
	c := &cobra.Command{
		Use:   "status USERNAME",
		Short: "Say in plain words why a user cannot log in, or that nothing stops her",
		Long: "Find the AuthUser that holds USERNAME (its spec.username, else its name, or the name its status\n" +
			"holds; case-insensitively) and say what stops its logins: disabled, not Ready and why, a username\n" +
			"held by another AuthUser, throttled until when and by which limit; and what she may notice: a\n" +
			"password change, tokens revoked before a time, the last login. It reads AuthUsers only, with the\n" +
			"kubeconfig's permissions (list on authusers.authstack.dev): what the manager and the token servers\n" +
			"know reaches it through the status the manager keeps; it needs no Redis credentials.\n\n" +
			"Exit status: 0 when nothing stops the user, 1 when something does (or no AuthUser holds the\n" +
			"username), 2 on an error, or when no AuthUser was found but a namespace could not be read.\n\n" +
			"As a kubectl plugin: ln -s $(command -v authstack) ~/bin/kubectl-authstack (any directory on\n" +
			"PATH), then `kubectl authstack status alice -n team-a`.",
		Example: "  authstack status alice                  # in the kubeconfig context's namespace\n" +
			"  authstack status alice -n team-a\n" +
			"  authstack status alice --all-namespaces -o json",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &exitError{code: statusError, err: errors.New("status takes one USERNAME")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := o.report(cmd, args[0], clk.Now())
			if err != nil {
				return &exitError{code: statusError, err: err}
			}
			if o.output == "json" {
				err = r.WriteJSON(cmd.OutOrStdout())
			} else {
				err = r.WriteText(cmd.OutOrStdout())
			}
			switch {
			case err != nil:
				return &exitError{code: statusError, err: err}
			case r.Verdict == userstatus.VerdictBlocked:
				return &exitError{code: statusBlocked}
			case r.Verdict == userstatus.VerdictUnknown:
				return &exitError{code: statusError}
			}
			return nil
		},
	}
	c.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: statusError, err: err} })
	fs := c.Flags()
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "path to a kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)")
	fs.StringVar(&o.context, "context", "", "kubeconfig context to use (default: its current context)")
	fs.StringVarP(&o.namespace, "namespace", "n", "", "namespace to look in (default: the context's)")
	fs.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "look in every namespace, one by one where AuthUsers cannot be listed cluster-wide (overrides --namespace)")
	fs.StringVarP(&o.output, "output", "o", "text", "output format: text, or json (a stable schema, docs/operations.md)")
	annotateEnv(fs)
	return c
}

// report finds the user's AuthUsers with the kubeconfig's permissions and
// diagnoses them.
func (o *statusOptions) report(cmd *cobra.Command, username string, now time.Time) (userstatus.Report, error) {
	if o.output != "text" && o.output != "json" {
		return userstatus.Report{}, fmt.Errorf("--output %q: want text or json", o.output)
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	kc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: o.context})
	cfg, err := kc.ClientConfig()
	if err != nil {
		return userstatus.Report{}, err
	}
	scope := userstatus.Scope{Namespace: o.namespace, AllNamespaces: o.allNamespaces}
	if scope.Namespace == "" && !scope.AllNamespaces {
		if scope.Namespace, _, err = kc.Namespace(); err != nil {
			return userstatus.Report{}, err
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: controllers.Scheme()})
	if err != nil {
		return userstatus.Report{}, err
	}
	found, err := userstatus.Find(cmd.Context(), c, username, scope)
	if err != nil {
		return userstatus.Report{}, err
	}
	return userstatus.Diagnose(username, found, now, time.Local), nil
}
