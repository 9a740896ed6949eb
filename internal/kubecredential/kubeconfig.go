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

package kubecredential

import (
	"strings"

	clientcmdv1 "k8s.io/client-go/tools/clientcmd/api/v1"
	"sigs.k8s.io/yaml"
)

// Kubeconfig describes the kubeconfig of a user who logs in with
// `authstack login`.
type Kubeconfig struct {
	Key
	// CAFile is the --certificate-authority login is given: a path that
	// holds on the user's machine.
	CAFile string
	// ClientSecretFile, for a confidential client, is a path on the
	// user's machine too.
	ClientSecretFile string
	Scopes           []string
	AllowHTTP        bool
	// Command is the authstack binary kubectl runs.
	Command string
	// Name names the user entry, and the cluster and context with it.
	Name string
	// ClusterServer, when set, makes a whole kubeconfig: the cluster at
	// that URL, whose CA is ClusterCA (PEM; empty for the system roots),
	// and a context joining it to the user.
	ClusterServer string
	ClusterCA     []byte
}

// LoginArgs are the arguments of the `authstack login` kubectl runs.
func (k Kubeconfig) LoginArgs() []string {
	args := []string{"login", "--server", k.Issuer, "--client-id", k.ClientID, "--username", k.Username}
	if k.CAFile != "" {
		args = append(args, "--certificate-authority", k.CAFile)
	}
	if k.ClientSecretFile != "" {
		args = append(args, "--client-secret-file", k.ClientSecretFile)
	}
	for _, s := range k.Scopes {
		args = append(args, "--scope", s)
	}
	if k.AllowHTTP {
		args = append(args, "--insecure-allow-http")
	}
	return args
}

// User is the kubeconfig user entry: an exec credential plugin that may
// prompt when kubectl has a terminal.
func (k Kubeconfig) User() clientcmdv1.NamedAuthInfo {
	return clientcmdv1.NamedAuthInfo{
		Name: k.Name,
		AuthInfo: clientcmdv1.AuthInfo{Exec: &clientcmdv1.ExecConfig{
			APIVersion:         ExecAPIVersion,
			Command:            k.Command,
			Args:               k.LoginArgs(),
			Env:                []clientcmdv1.ExecEnvVar{},
			InstallHint:        "authstack login needs the authstack binary on the PATH (see https://github.com/authstack/authstack).",
			InteractiveMode:    clientcmdv1.IfAvailableExecInteractiveMode,
			ProvideClusterInfo: false,
		}},
	}
}

// Config is the kubeconfig: the user entry alone, to merge into one's
// kubeconfig, or with ClusterServer a whole one.
func (k Kubeconfig) Config() clientcmdv1.Config {
	c := clientcmdv1.Config{
		Kind:       "Config",
		APIVersion: "v1",
		AuthInfos:  []clientcmdv1.NamedAuthInfo{k.User()},
		Clusters:   []clientcmdv1.NamedCluster{},
		Contexts:   []clientcmdv1.NamedContext{},
	}
	if k.ClusterServer == "" {
		return c
	}
	c.Clusters = []clientcmdv1.NamedCluster{{
		Name:    k.Name,
		Cluster: clientcmdv1.Cluster{Server: k.ClusterServer, CertificateAuthorityData: k.ClusterCA},
	}}
	c.Contexts = []clientcmdv1.NamedContext{{
		Name:    k.Name,
		Context: clientcmdv1.Context{Cluster: k.Name, AuthInfo: k.Name},
	}}
	c.CurrentContext = k.Name
	return c
}

// YAML is Config as YAML.
func (k Kubeconfig) YAML() ([]byte, error) { return yaml.Marshal(k.Config()) }

// WebhookConfig is the kubeconfig-format file of kube-apiserver's
// --authentication-token-webhook-config-file: the TokenReview endpoint
// at the issuer's path + /tokenreview, trusted through ca (PEM; empty for
// the system roots).
func WebhookConfig(issuer string, ca []byte) clientcmdv1.Config {
	const name = "authstack"
	return clientcmdv1.Config{
		Kind:       "Config",
		APIVersion: "v1",
		Clusters: []clientcmdv1.NamedCluster{{
			Name:    name,
			Cluster: clientcmdv1.Cluster{Server: TokenReviewURL(issuer), CertificateAuthorityData: ca},
		}},
		AuthInfos: []clientcmdv1.NamedAuthInfo{{Name: "kube-apiserver"}},
		Contexts: []clientcmdv1.NamedContext{{
			Name:    name,
			Context: clientcmdv1.Context{Cluster: name, AuthInfo: "kube-apiserver"},
		}},
		CurrentContext: name,
	}
}

// TokenReviewURL is where the issuer serves TokenReview.
func TokenReviewURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/tokenreview"
}
