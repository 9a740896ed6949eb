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
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/authstack/authstack/internal/signer"
)

// runJWKS runs `authstack jwks args...` and returns what it printed.
func runJWKS(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	root := NewRoot()
	root.SetOut(&out)
	root.SetArgs(append([]string{"jwks"}, args...))
	err := root.Execute()
	return out.Bytes(), err
}

// writePEM writes one PEM block of DER to a new file in dir.
func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// jwksMembers decodes a printed set into its keys' members, and fails
// if any key carries a private member.
func jwksMembers(t *testing.T, out []byte) []map[string]string {
	t.Helper()
	var doc struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("output is not a JWK Set: %v\n%s", err, out)
	}
	for i, k := range doc.Keys {
		for _, m := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := k[m]; ok {
				t.Errorf("key %d has the private member %q", i, m)
			}
		}
	}
	return doc.Keys
}

// An EC P-256 private key, in each of its PEM forms and as its public
// key, prints one set: its public key, which signer parses back, with
// ES256, use sig, and the RFC 7638 thumbprint (computed here by hand) as
// kid, and nothing of the private scalar.
func TestJWKSOfAnECKey(t *testing.T) {
	dir := t.TempDir()
	priv := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	files := []string{
		writePEM(t, dir, "pkcs8.pem", "PRIVATE KEY", must[[]byte](t)(x509.MarshalPKCS8PrivateKey(priv))),
		writePEM(t, dir, "sec1.pem", "EC PRIVATE KEY", must[[]byte](t)(x509.MarshalECPrivateKey(priv))),
		writePEM(t, dir, "pub.pem", "PUBLIC KEY", must[[]byte](t)(x509.MarshalPKIXPublicKey(priv.Public()))),
	}
	b64 := base64.RawURLEncoding
	point := must[[]byte](t)(priv.PublicKey.Bytes()) // 0x04 || X || Y
	x, y := b64.EncodeToString(point[1:33]), b64.EncodeToString(point[33:])
	sum := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	wantKid := b64.EncodeToString(sum[:])
	secret := b64.EncodeToString(must[[]byte](t)(priv.Bytes()))

	var first []byte
	for _, f := range files {
		out, err := runJWKS(t, f)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if !bytes.HasSuffix(out, []byte("}\n")) {
			t.Errorf("%s: output does not end with a newline: %q", filepath.Base(f), out)
		}
		if first == nil {
			first = out
		} else if !bytes.Equal(out, first) {
			t.Errorf("%s prints\n%s\nwhich differs from pkcs8.pem's\n%s", filepath.Base(f), out, first)
		}
	}
	if bytes.Contains(first, []byte(secret)) {
		t.Fatal("the output holds the private scalar")
	}
	keys := jwksMembers(t, first)
	if len(keys) != 1 {
		t.Fatalf("%d keys, want 1", len(keys))
	}
	want := map[string]string{"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": wantKid, "alg": "ES256", "use": "sig"}
	if got := keys[0]; !maps.Equal(got, want) {
		t.Errorf("key = %v, want %v", got, want)
	}
	ks, skipped, err := signer.ParseJWKS(first)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("signer.ParseJWKS: %v, skipped %v", err, skipped)
	}
	k, ok := ks.Lookup(wantKid)
	if !ok || !priv.PublicKey.Equal(k.Public) || k.Alg != signer.AlgES256 {
		t.Errorf("parsed back: %v %+v", ok, k)
	}
}

// Each file's keys are printed, with the algorithm of its type; one key
// given twice is printed once.
func TestJWKSOfSeveralFiles(t *testing.T) {
	dir := t.TempDir()
	ec := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := must[*rsa.PrivateKey](t)(rsa.GenerateKey(rand.Reader, 2048))
	ecFile := writePEM(t, dir, "ec.pem", "EC PRIVATE KEY", must[[]byte](t)(x509.MarshalECPrivateKey(ec)))
	edFile := writePEM(t, dir, "ed.pem", "PUBLIC KEY", must[[]byte](t)(x509.MarshalPKIXPublicKey(edPub)))
	rsaFile := writePEM(t, dir, "rsa.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))

	cases := []struct {
		args []string
		algs []string
		pubs []crypto.PublicKey
	}{
		{[]string{ecFile, edFile}, []string{"ES384", "EdDSA"}, []crypto.PublicKey{ec.Public(), edPub}},
		{[]string{"-f", rsaFile, ecFile}, []string{"RS256", "ES384"}, []crypto.PublicKey{rsaKey.Public(), ec.Public()}},
		{[]string{ecFile, ecFile}, []string{"ES384"}, []crypto.PublicKey{ec.Public()}},
	}
	for _, c := range cases {
		out, err := runJWKS(t, c.args...)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		var algs []string
		for _, k := range jwksMembers(t, out) {
			algs = append(algs, k["alg"])
		}
		if !slices.Equal(algs, c.algs) {
			t.Errorf("%v: algs %v, want %v", c.args, algs, c.algs)
		}
		ks, _, err := signer.ParseJWKS(out)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		for i, k := range ks.Keys {
			if pub, ok := k.Public.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(c.pubs[i]) {
				t.Errorf("%v: key %d is not the file's public key", c.args, i)
			}
		}
	}
}

// A weak RSA key, an unsupported curve, a file that is not PEM and a
// missing file are refused, the error naming the file; so are no files.
func TestJWKSRefusals(t *testing.T) {
	dir := t.TempDir()
	weak := must[*rsa.PrivateKey](t)(rsa.GenerateKey(rand.Reader, 1024))
	p521 := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P521(), rand.Reader))
	good := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	goodFile := writePEM(t, dir, "good.pem", "PRIVATE KEY", must[[]byte](t)(x509.MarshalPKCS8PrivateKey(good)))
	notPEM := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notPEM, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file, want string
	}{
		{writePEM(t, dir, "weak.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(weak)), "1024 bits"},
		{writePEM(t, dir, "p521.pem", "PRIVATE KEY", must[[]byte](t)(x509.MarshalPKCS8PrivateKey(p521))), "P-521"},
		{notPEM, "no key found"},
		{filepath.Join(dir, "missing.pem"), "no such file"},
	}
	for _, c := range cases {
		// The good key beside it does not save the set.
		out, err := runJWKS(t, goodFile, c.file)
		if err == nil || !strings.Contains(err.Error(), c.file) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one naming the file and %q", filepath.Base(c.file), err, c.want)
		}
		if len(out) != 0 {
			t.Errorf("%s: printed %q", filepath.Base(c.file), out)
		}
	}
	if _, err := runJWKS(t); err == nil || !strings.Contains(err.Error(), "no key file") {
		t.Errorf("no files: err = %v", err)
	}
	if _, err := runJWKS(t, "--configmap", "Not_A_Name", goodFile); err == nil || !strings.Contains(err.Error(), "--configmap") {
		t.Errorf("bad ConfigMap name: err = %v", err)
	}
}

// --configmap prints a ConfigMap holding the set under jwks.json, the
// key spec.publicKeys.configMapRef reads by default.
func TestJWKSConfigMap(t *testing.T) {
	dir := t.TempDir()
	priv := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	file := writePEM(t, dir, "key.pem", "PRIVATE KEY", must[[]byte](t)(x509.MarshalPKCS8PrivateKey(priv)))
	set, err := runJWKS(t, file)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runJWKS(t, "--configmap", "billing-keys", file)
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(out, &cm); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Name != "billing-keys" || len(cm.Data) != 1 || cm.Data["jwks.json"] != string(set) {
		t.Errorf("ConfigMap:\n%s", out)
	}
	if bytes.Contains(out, []byte("creationTimestamp")) {
		t.Errorf("ConfigMap has server-set fields:\n%s", out)
	}
}
