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
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/authstack/authstack/authserver/tokenreview"
	"github.com/authstack/authstack/internal/kubecredential"
)

// kubeconfigOptions are the flags of `authstack kubeconfig`.
type kubeconfigOptions struct {
	loginOptions
	name, clusterServer, clusterCA string
	prefix, audience               string
	authConfig, webhookConfig      bool
}

func newKubeconfigCommand() *cobra.Command {
	o := &kubeconfigOptions{}
	c := &cobra.Command{
		Use:   "kubeconfig --server ISSUER --client-id ID --username USER",
		Short: "Print the kubeconfig that logs in with `authstack login`, or kube-apiserver's configuration for authstack tokens",
		Long: "Print the kubeconfig user entry whose exec credential plugin is `authstack login` (a whole\n" +
			"kubeconfig with --cluster-server); with --authentication-config, kube-apiserver's\n" +
			"AuthenticationConfiguration (apiserver.config.k8s.io/v1) with a JWT authenticator for the issuer;\n" +
			"with --webhook-config, the kubeconfig of its --authentication-token-webhook-config-file,\n" +
			"pointing at the issuer's /tokenreview.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			doc, err := o.document()
			if err != nil {
				return err
			}
			b, err := yaml.Marshal(doc)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	fs := c.Flags()
	o.addFlags(fs)
	fs.StringVar(&o.name, "name", "authstack", "name of the kubeconfig user entry, and of the cluster and context with --cluster-server")
	fs.StringVar(&o.clusterServer, "cluster-server", "", "API server URL: print a whole kubeconfig with this cluster and a context")
	fs.StringVar(&o.clusterCA, "cluster-ca", "", "PEM file of the API server's CA, embedded in the kubeconfig's cluster")
	fs.StringVar(&o.prefix, "prefix", "authstack:", "with --authentication-config: the prefix of usernames and groups in Kubernetes")
	fs.StringVar(&o.audience, "audience", "kubernetes", "with --authentication-config: the audience of the AuthClient's tokens (its spec.audiences)")
	fs.BoolVar(&o.authConfig, "authentication-config", false, "print kube-apiserver's AuthenticationConfiguration (--authentication-config) instead")
	fs.BoolVar(&o.webhookConfig, "webhook-config", false, "print kube-apiserver's --authentication-token-webhook-config-file instead")
	c.MarkFlagsMutuallyExclusive("authentication-config", "webhook-config")
	annotateEnv(fs)
	return c
}

// document is what the command prints.
func (o *kubeconfigOptions) document() (any, error) {
	if o.server == "" {
		return nil, errors.New("--server is required")
	}
	if err := kubecredential.CheckIssuer(o.server, o.allowHTTP); err != nil {
		return nil, err
	}
	switch {
	case o.authConfig:
		if o.audience == "" {
			return nil, errors.New("--audience is required: the audience of the Kubernetes AuthClient's tokens")
		}
		// The prefix the TokenReview webhook requires, for the same reason:
		// never empty or "system:", so no name collides with Kubernetes' own.
		if err := tokenreview.CheckPrefix(o.prefix); err != nil {
			return nil, fmt.Errorf("--prefix: %w", err)
		}
		ca, err := readOptional(o.caFile, "--certificate-authority")
		return kubecredential.Authentication{
			Issuer: o.server, Audience: o.audience, CA: ca, Prefix: o.prefix,
		}.Config(), err
	case o.webhookConfig:
		ca, err := readOptional(o.caFile, "--certificate-authority")
		return kubecredential.WebhookConfig(o.server, ca), err
	}
	return o.kubeconfig()
}

func (o *kubeconfigOptions) kubeconfig() (any, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	ca, err := readOptional(o.clusterCA, "--cluster-ca")
	if err != nil {
		return nil, err
	}
	k := kubecredential.Kubeconfig{
		Key:    kubecredential.Key{Issuer: o.server, ClientID: o.clientID, Username: o.username},
		Scopes: o.scopes, AllowHTTP: o.allowHTTP,
		Command: executable(), Name: o.name,
		ClusterServer: o.clusterServer, ClusterCA: ca,
	}
	// kubectl runs the plugin from any directory.
	if k.CAFile, err = absolute(o.caFile); err != nil {
		return nil, err
	}
	if k.ClientSecretFile, err = absolute(o.clientSecretFile); err != nil {
		return nil, err
	}
	return k.Config(), nil
}

// executable is the running authstack binary, for kubectl to run.
func executable() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "authstack"
}

func absolute(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	return filepath.Abs(path)
}

func readOptional(path, flag string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return b, nil
}
