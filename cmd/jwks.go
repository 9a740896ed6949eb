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
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/authstack/authstack/api/v1alpha1"
	"github.com/authstack/authstack/internal/signer"
)

func newJWKSCommand() *cobra.Command {
	var files []string
	var configMap string
	c := &cobra.Command{
		Use:   "jwks [-f] KEY.pem...",
		Short: "Print the JSON Web Key Set of PEM keys, for an AuthClient's spec.publicKeys",
		Long: "Print the JSON Web Key Set (RFC 7517) of the public keys in PEM files: PKIX PUBLIC KEY, or a\n" +
			"PKCS #8, EC or PKCS #1 RSA private key, of which only the public half is printed. Each key has\n" +
			"its alg (ES256, ES384, EdDSA or RS256), use sig, and its RFC 7638 thumbprint as kid: the set\n" +
			"an AuthClient's spec.publicKeys.jwks holds for private_key_jwt. With --configmap, print a\n" +
			"ConfigMap holding the set under " + v1alpha1.DefaultJWKSKey + " instead, for spec.publicKeys.configMapRef.",
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := jwksOutput(append(files, args...), configMap)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	fs := c.Flags()
	fs.StringArrayVarP(&files, "filename", "f", nil, "PEM file of public or private keys (repeatable; files may also be given as arguments)")
	fs.StringVar(&configMap, "configmap", "", "print a ConfigMap of this name holding the set under "+v1alpha1.DefaultJWKSKey)
	annotateEnv(fs)
	return c
}

// jwksOutput is what `authstack jwks` prints for the PEM files: the JWK
// Set, or with a configMap name the ConfigMap holding it.
func jwksOutput(files []string, configMap string) ([]byte, error) {
	if len(files) == 0 {
		return nil, errors.New("no key file given (authstack jwks KEY.pem)")
	}
	if configMap != "" {
		if errs := validation.IsDNS1123Subdomain(configMap); len(errs) > 0 {
			return nil, fmt.Errorf("--configmap %q: %s", configMap, strings.Join(errs, "; "))
		}
	}
	set, err := publicKeySet(files)
	if err != nil {
		return nil, err
	}
	if configMap == "" {
		return set, nil
	}
	return yaml.Marshal(&corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: configMap},
		Data:       map[string]string{v1alpha1.DefaultJWKSKey: string(set)},
	})
}

// publicKeySet returns the indented JWK Set of the keys in the PEM files,
// ending with a newline. It holds public members only: signer.JWK has no
// field for private ones.
func publicKeySet(files []string) ([]byte, error) {
	var keys []*signer.Key
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err // names the file
		}
		k, err := signer.ParsePEM(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		keys = append(keys, k...)
	}
	ks, err := signer.NewKeySet(nil, keys...)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, ks.JWKS(), "", "  "); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
