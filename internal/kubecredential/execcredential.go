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
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
)

// ExecAPIVersion is the client-go exec credential API the plugin speaks.
const ExecAPIVersion = "client.authentication.k8s.io/v1"

// ExecInfoEnv is the environment variable in which client-go passes the
// plugin its ExecCredential spec (whether it may interact, the cluster).
const ExecInfoEnv = "KUBERNETES_EXEC_INFO"

// Interactive reads the KUBERNETES_EXEC_INFO value execInfo: whether the
// plugin may prompt. Without one (the plugin was run by hand), it may.
func Interactive(execInfo string) (bool, error) {
	if execInfo == "" {
		return true, nil
	}
	var ec clientauthv1.ExecCredential
	if err := json.Unmarshal([]byte(execInfo), &ec); err != nil {
		return false, fmt.Errorf("%s is not an ExecCredential: %w", ExecInfoEnv, err)
	}
	if ec.APIVersion != ExecAPIVersion {
		return false, fmt.Errorf("kubectl asks for an ExecCredential of %q; set the kubeconfig's exec apiVersion to %s", ec.APIVersion, ExecAPIVersion)
	}
	return ec.Spec.Interactive, nil
}

// ExecCredential is the plugin's output for e: its access token, and the
// time client-go must run the plugin again.
func ExecCredential(e *Entry) ([]byte, error) {
	ec := clientauthv1.ExecCredential{
		TypeMeta: metav1.TypeMeta{APIVersion: ExecAPIVersion, Kind: "ExecCredential"},
		Status:   &clientauthv1.ExecCredentialStatus{Token: e.AccessToken},
	}
	if !e.Expiry.IsZero() {
		t := metav1.NewTime(e.Expiry)
		ec.Status.ExpirationTimestamp = &t
	}
	b, err := json.Marshal(ec)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
