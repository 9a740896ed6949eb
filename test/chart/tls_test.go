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
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// certificateCRD is the least of cert-manager's Certificate CRD that lets
// the API server accept the chart's Certificate.
func certificateCRD() *apiextensionsv1.CustomResourceDefinition {
	return openCRD("cert-manager.io", "Certificate", "certificates")
}

// certificate is the part of a cert-manager.io/v1 Certificate the chart sets.
type certificate struct {
	APIVersion string `json:"apiVersion"`
	Spec       struct {
		SecretName string   `json:"secretName"`
		DNSNames   []string `json:"dnsNames"`
		Usages     []string `json:"usages"`
		IssuerRef  struct {
			Name, Kind, Group string
		} `json:"issuerRef"`
	} `json:"spec"`
}

// rendered is what TLS changes in a render: the server container, its
// volumes, the Service's API port, and the Certificate if any.
type rendered struct {
	server  corev1.Container
	volumes []corev1.Volume
	port    corev1.ServicePort
	cert    *certificate
}

func renderTLS(t *testing.T, args ...string) rendered {
	t.Helper()
	objs := render(t, append([]string{"--set", "issuer=https://auth.example.com", "--set", "redis.url=redis://redis:6379"}, args...)...)
	specs := podSpecs(t, objs)
	for name, spec := range specs {
		checkRestricted(t, name, spec)
	}
	spec := specs["Deployment/rel-authstack-server"]
	r := rendered{server: spec.Containers[0], volumes: spec.Volumes}
	for _, o := range objs {
		switch {
		case o.Kind == "Service" && o.Name == "rel-authstack-server":
			var svc corev1.Service
			o.into(t, &svc)
			r.port = svc.Spec.Ports[0]
		case o.Kind == "Certificate":
			r.cert = &certificate{}
			o.into(t, r.cert)
		}
	}
	// The probes stay on the plain-HTTP metrics port in every mode.
	for _, p := range []*corev1.Probe{r.server.ReadinessProbe, r.server.LivenessProbe} {
		if p.HTTPGet == nil || p.HTTPGet.Port.String() != "metrics" || p.HTTPGet.Scheme == corev1.URISchemeHTTPS {
			t.Errorf("probe %+v: want plain HTTP on the metrics port", p.HTTPGet)
		}
	}
	return r
}

func (r rendered) tlsVolume() *corev1.Volume {
	for i := range r.volumes {
		if r.volumes[i].Name == "tls" {
			return &r.volumes[i]
		}
	}
	return nil
}

var tlsArgs = []string{"--tls-cert-file=/etc/authstack/tls/tls.crt", "--tls-key-file=/etc/authstack/tls/tls.key"}

// checkServesTLSFrom checks the server serves HTTPS from secret, mounted
// read-only, behind a Service port named https.
func (r rendered) checkServesTLSFrom(t *testing.T, secret string) {
	t.Helper()
	for _, a := range tlsArgs {
		if !slices.Contains(r.server.Args, a) {
			t.Errorf("server args %v: no %s", r.server.Args, a)
		}
	}
	if v := r.tlsVolume(); v == nil || v.Secret == nil || v.Secret.SecretName != secret {
		t.Errorf("tls volume %+v: want the Secret %s", v, secret)
	}
	mounted := false
	for _, m := range r.server.VolumeMounts {
		if m.Name == "tls" {
			mounted = m.MountPath == "/etc/authstack/tls" && m.ReadOnly && m.SubPath == ""
		}
	}
	if !mounted {
		t.Errorf("mounts %+v: want tls read-only at /etc/authstack/tls, no subPath (so renewals reach the pod)", r.server.VolumeMounts)
	}
	if r.port.Name != "https" || r.port.Port != 443 || r.port.TargetPort.String() != "https" || r.port.AppProtocol == nil || *r.port.AppProtocol != "https" {
		t.Errorf("Service API port %+v: want https, 443, appProtocol https", r.port)
	}
	if r.server.Ports[0].Name != "https" || r.server.Ports[0].ContainerPort != 8080 {
		t.Errorf("container port %+v: want https on 8080", r.server.Ports[0])
	}
}

// By default the API is plain HTTP, as before TLS existed.
func TestTLSOffByDefault(t *testing.T) {
	r := renderTLS(t)
	for _, a := range r.server.Args {
		if strings.HasPrefix(a, "--tls-") {
			t.Errorf("server arg %s without tls values", a)
		}
	}
	if r.tlsVolume() != nil || r.cert != nil {
		t.Errorf("tls volume %v, Certificate %v without tls values", r.tlsVolume(), r.cert)
	}
	if r.port.Name != "http" || r.port.Port != 80 || r.port.AppProtocol != nil {
		t.Errorf("Service API port %+v: want http on 80", r.port)
	}
}

func TestTLSFromAnExistingSecret(t *testing.T) {
	r := renderTLS(t, "--set", "tls.existingSecret=auth-tls")
	r.checkServesTLSFrom(t, "auth-tls")
	if r.cert != nil {
		t.Errorf("a Certificate with tls.existingSecret: %+v", r.cert)
	}
	// server.service.port still wins.
	if r := renderTLS(t, "--set", "tls.existingSecret=auth-tls", "--set", "server.service.port=8443"); r.port.Port != 8443 {
		t.Errorf("Service port %d, want server.service.port 8443", r.port.Port)
	}
}

func TestTLSFromCertManager(t *testing.T) {
	r := renderTLS(t, "--set", "tls.certManager.issuerRef.name=internal-ca", "--set", "tls.certManager.issuerRef.kind=ClusterIssuer",
		"--set", "tls.certManager.dnsNames={auth.internal.example}")
	r.checkServesTLSFrom(t, "rel-authstack-server-tls")
	if r.cert == nil {
		t.Fatal("no Certificate")
	}
	c := r.cert.Spec
	wantNames := []string{"rel-authstack-server", "rel-authstack-server.auth", "rel-authstack-server.auth.svc",
		"rel-authstack-server.auth.svc.cluster.local", "auth.internal.example"}
	if r.cert.APIVersion != "cert-manager.io/v1" || c.SecretName != "rel-authstack-server-tls" || !reflect.DeepEqual(c.DNSNames, wantNames) ||
		c.IssuerRef.Name != "internal-ca" || c.IssuerRef.Kind != "ClusterIssuer" || c.IssuerRef.Group != "cert-manager.io" ||
		!slices.Contains(c.Usages, "server auth") {
		t.Errorf("Certificate %+v", *r.cert)
	}
}

func TestTLSRejectsBadValues(t *testing.T) {
	base := []string{"template", "rel", chartDir, "--set", "issuer=https://auth.example.com", "--set", "redis.url=redis://redis:6379"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"both sources", []string{"--set", "tls.existingSecret=a", "--set", "tls.certManager.issuerRef.name=ca"},
			"set tls.existingSecret or tls.certManager.issuerRef.name, not both"},
		{"unknown key", []string{"--set", "tls.secretName=a"}, "additional properties 'secretName' not allowed"},
		{"empty issuer kind", []string{"--set", "tls.certManager.issuerRef.name=ca", "--set", "tls.certManager.issuerRef.kind="}, "/tls/certManager/issuerRef/kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := helm("", append(slices.Clone(base), tc.args...)...)
			if err == nil {
				t.Fatalf("rendered:\n%s", out)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("error %q does not mention %q", stderr, tc.want)
			}
		})
	}
}

// server.tokenReview.audiences serves the TokenReview webhook with the
// prefix; without audiences no flag is rendered; an empty or system:
// prefix is refused by the schema.
func TestTokenReviewValues(t *testing.T) {
	if r := renderTLS(t); slices.ContainsFunc(r.server.Args, func(a string) bool { return strings.HasPrefix(a, "--tokenreview") }) {
		t.Errorf("TokenReview flags without audiences: %v", r.server.Args)
	}
	r := renderTLS(t, "--set", "tls.existingSecret=auth-tls", "--set", "server.tokenReview.audiences={kubernetes,k8s-prod}")
	for _, a := range []string{"--tokenreview-audience=kubernetes", "--tokenreview-audience=k8s-prod", "--tokenreview-prefix=authstack:"} {
		if !slices.Contains(r.server.Args, a) {
			t.Errorf("server args %v: no %s", r.server.Args, a)
		}
	}
	base := []string{"template", "rel", chartDir, "--set", "issuer=https://auth.example.com", "--set", "redis.url=redis://redis:6379",
		"--set", "server.tokenReview.audiences={kubernetes}"}
	for _, prefix := range []string{"", "system:", "System:x:"} {
		if out, _, err := helm("", append(slices.Clone(base), "--set", "server.tokenReview.prefix="+prefix)...); err == nil {
			t.Errorf("prefix %q accepted:\n%s", prefix, out)
		}
	}
}

// server.serviceAccountClients passes --service-account-clients and its
// audiences; off (the default), neither; the schema refuses an empty
// audience and unknown keys.
func TestServiceAccountClientsValues(t *testing.T) {
	if r := renderTLS(t); slices.ContainsFunc(r.server.Args, func(a string) bool { return strings.HasPrefix(a, "--service-account") }) {
		t.Errorf("ServiceAccount flags by default: %v", r.server.Args)
	}
	r := renderTLS(t, "--set", "server.serviceAccountClients.enabled=true", "--set", "server.serviceAccountClients.audiences={https://auth.example.com,authstack}")
	for _, a := range []string{"--service-account-clients", "--service-account-audience=https://auth.example.com", "--service-account-audience=authstack"} {
		if !slices.Contains(r.server.Args, a) {
			t.Errorf("server args %v: no %s", r.server.Args, a)
		}
	}
	base := []string{"template", "rel", chartDir, "--set", "issuer=https://auth.example.com", "--set", "redis.url=redis://redis:6379"}
	for _, bad := range [][]string{
		{"--set-json", `server.serviceAccountClients.audiences=[""]`},
		{"--set", "server.serviceAccountClients.enable=true"},
		{"--set-string", "server.serviceAccountClients.enabled=yes"},
	} {
		if out, _, err := helm("", append(slices.Clone(base), bad...)...); err == nil {
			t.Errorf("%v accepted:\n%s", bad, out)
		}
	}
}
