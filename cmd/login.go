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
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/authstack/authstack/internal/kubecredential"
)

// loginOptions are the flags that name a login: login, logout and
// kubeconfig take them.
type loginOptions struct {
	server, clientID, username string
	caFile, clientSecretFile   string
	scopes                     []string
	allowHTTP                  bool
}

func (o *loginOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.server, "server", "", "issuer URL of the authstack server (https://host[/path]); its discovery document gives the endpoints")
	fs.StringVar(&o.clientID, "client-id", "", "AuthClient ID to log in through (a public client unless --client-secret-file)")
	fs.StringVar(&o.username, "username", "", "username of the AuthUser")
	fs.StringVar(&o.caFile, "certificate-authority", "", "PEM file of the CA the server's certificate is checked against, besides the system roots")
	fs.StringVar(&o.clientSecretFile, "client-secret-file", "", "file holding the client secret of a confidential client")
	fs.StringSliceVar(&o.scopes, "scope", nil, "scope to ask for (repeatable); none asks for the client's default")
	fs.BoolVar(&o.allowHTTP, "insecure-allow-http", false, "allow a plain http:// server, for a local dev server only: the password crosses the network readable")
}

// check refuses a login without its names, or with an issuer not https.
func (o *loginOptions) check() error {
	if o.server == "" || o.clientID == "" || o.username == "" {
		return errors.New("--server, --client-id and --username are required")
	}
	return kubecredential.CheckIssuer(o.server, o.allowHTTP)
}

// client is the login's kubecredential.Client, asking password for the
// password.
func (o *loginOptions) client(password func() (string, error)) (*kubecredential.Client, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	hc, err := kubecredential.NewHTTPClient(o.caFile, o.allowHTTP)
	if err != nil {
		return nil, err
	}
	dir, err := kubecredential.DefaultCacheDir()
	if err != nil {
		return nil, err
	}
	secret, err := o.clientSecret()
	if err != nil {
		return nil, err
	}
	return &kubecredential.Client{
		Key:          kubecredential.Key{Issuer: o.server, ClientID: o.clientID, Username: o.username, Scope: kubecredential.ScopeKey(o.scopes)},
		ClientSecret: secret,
		Scopes:       o.scopes,
		HTTP:         hc,
		Cache:        &kubecredential.Cache{Dir: dir},
		Password:     password,
	}, nil
}

func (o *loginOptions) clientSecret() (string, error) {
	if o.clientSecretFile == "" {
		return "", nil
	}
	b, err := os.ReadFile(o.clientSecretFile)
	if err != nil {
		return "", fmt.Errorf("--client-secret-file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func newLoginCommand() *cobra.Command {
	o := &loginOptions{}
	c := &cobra.Command{
		Use:   "login --server ISSUER --client-id ID --username USER",
		Short: "Log in to authstack and print a client.authentication.k8s.io/v1 ExecCredential (a kubectl exec credential plugin)",
		Long: "Get an access token with the password grant and print it as the ExecCredential kubectl's exec\n" +
			"credential plugins print. The tokens are cached in $KUBECACHEDIR/authstack (else\n" +
			"~/.kube/cache/authstack) and refreshed with the refresh token; the password is asked on the\n" +
			"terminal, or read from " + kubecredential.PasswordEnv + ", only when a new login is needed.\n" +
			"`authstack kubeconfig` prints the kubeconfig user entry that runs it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			interactive, err := kubecredential.Interactive(os.Getenv(kubecredential.ExecInfoEnv))
			if err != nil {
				return loginError{err}
			}
			prompt := fmt.Sprintf("Password for %s at %s: ", o.username, o.server)
			cl, err := o.client(kubecredential.PasswordSource(interactive, cmd.ErrOrStderr(), prompt))
			if err != nil {
				return loginError{err}
			}
			e, err := cl.Token(cmd.Context())
			if err != nil {
				return loginError{err}
			}
			b, err := kubecredential.ExecCredential(e)
			if err != nil {
				return loginError{err}
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	o.addFlags(c.Flags())
	annotateEnv(c.Flags())
	return c
}

func newLogoutCommand() *cobra.Command {
	o := &loginOptions{}
	c := &cobra.Command{
		Use:   "logout --server ISSUER --client-id ID --username USER",
		Short: "Revoke the cached authstack session of `authstack login` and remove its cache file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := o.client(func() (string, error) { return "", errors.New("logout asks no password") })
			if err != nil {
				return loginError{err}
			}
			found, err := cl.Logout(cmd.Context())
			if err != nil {
				return loginError{err}
			}
			if !found {
				fmt.Fprintf(cmd.OutOrStdout(), "authstack: no session of %s at %s is cached; nothing to revoke\n", o.username, o.server)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "authstack: logged out %s at %s: the session is revoked\n", o.username, o.server)
			return nil
		},
	}
	o.addFlags(c.Flags())
	annotateEnv(c.Flags())
	return c
}

// loginError is an error of login or logout, which kubectl shows the user
// as it is: Execute prints it as "authstack: ...".
type loginError struct{ error }

func (e loginError) Unwrap() error { return e.error }

// errorLine is how Execute prints err.
func errorLine(err error) string {
	var le loginError
	if errors.As(err, &le) {
		return "authstack: " + le.Error()
	}
	return "error: " + err.Error()
}
