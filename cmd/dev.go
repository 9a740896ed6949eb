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
	"io"

	"github.com/spf13/cobra"

	"github.com/authstack/authstack/internal/manifest"
	"github.com/authstack/authstack/internal/password"
	"github.com/authstack/authstack/internal/records"
	"github.com/authstack/authstack/internal/signer"
	"github.com/authstack/authstack/internal/store/memory"
)

func newDevCommand() *cobra.Command {
	o := &serverOptions{}
	var files []string
	var alg string
	c := &cobra.Command{
		Use:   "dev -f PATH...",
		Short: "Serve the token API on an in-memory store, from AuthUser/AuthClient/Secret/ConfigMap YAML",
		Long: "Run the token server on an in-memory store with an ephemeral signing key, loaded from\n" +
			"YAML or JSON files (or directories of them) holding AuthUser, AuthClient, Secret and ConfigMap\n" +
			"objects, as `kubectl apply -f` would take them. For development and trying authstack out: nothing\n" +
			"persists. AuthClients may use secretRef or publicKeys; serviceAccountRef needs a cluster.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return errors.New("give at least one -f PATH (for example -f config/samples/)")
			}
			log, err := newLogger(o.logLevel)
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			tlsConfig, err := o.tls.config(ctx, log)
			if err != nil {
				return err
			}
			objs, err := manifest.Load(files...)
			if err != nil {
				return err
			}
			cfg := o.config()
			cfg.AllowHTTPIssuer = true
			auditLog, err := o.openAudit(&cfg)
			if err != nil {
				return err
			}
			defer auditLog.Close()
			st := memory.New()
			if err := manifest.Apply(cmd.Context(), st, objs, password.Policy{Params: cfg.HashParams, CostFactor: cfg.HashCostFactor}); err != nil {
				return err
			}
			key, err := signer.Generate(alg)
			if err != nil {
				return err
			}
			ks, err := signer.NewKeySet(key)
			if err != nil {
				return err
			}
			l, err := listen(o)
			if err != nil {
				return err
			}
			l.TLS = tlsConfig
			if o.issuer == "" {
				o.issuer = o.tls.scheme() + "://" + l.API.Addr().String()
			}
			cfg.Issuer = o.issuer
			cfg.Store, cfg.Keys, cfg.Logger = st, signer.Static(ks), log
			printWelcome(cmd.OutOrStdout(), o.issuer, objs)
			return serve(ctx, cfg, l, o.shutdownGrace)
		},
	}
	fs := c.Flags()
	o.addFlags(fs, "127.0.0.1:8080", "", 0)
	fs.StringArrayVarP(&files, "filename", "f", nil, "file or directory of AuthUser, AuthClient, Secret and ConfigMap YAML (repeatable)")
	fs.StringVar(&alg, "signing-alg", "ES256", "algorithm of the ephemeral signing key: ES256, EdDSA or RS256")
	annotateEnv(fs)
	return c
}

// printWelcome tells the developer what is served and prints a curl line
// for the first user whose password is in the given files. This is the dev
// server's standard output, not its log: it shows the developer's own sample
// password, and only in dev mode.
func printWelcome(w io.Writer, issuer string, objs *manifest.Objects) {
	fmt.Fprintf(w, "authstack dev: in-memory store with users: %d, clients: %d; issuer %s\n", len(objs.Users), len(objs.Clients), issuer)
	for i := range objs.Users {
		u := &objs.Users[i]
		if u.Spec.PasswordSecretRef == nil {
			continue
		}
		sec := objs.Secret(u.Namespace, u.Spec.PasswordSecretRef.Name)
		if sec == nil {
			continue
		}
		pw, err := records.SecretValue(sec, u.Spec.PasswordSecretRef.KeyOrDefault())
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "\nGet a token for %s:\n  curl -s %s/token -d grant_type=password -d username=%s --data-urlencode %s\n",
			u.EffectiveUsername(), issuer, shellQuote(u.EffectiveUsername()), shellQuote("password="+pw))
		fmt.Fprintf(w, "Use it:\n  curl -s %s/userinfo -H \"Authorization: Bearer $TOKEN\"\n\n", issuer)
		return
	}
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	out := "'"
	for _, r := range s {
		if r == '\'' {
			out += `'\''`
		} else {
			out += string(r)
		}
	}
	return out + "'"
}
